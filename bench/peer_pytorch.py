#!/usr/bin/python3
"""The peer of `robustcl bench`: the same measurement in PyTorch / NumPy on the same machine.

  peer_pytorch.py step --arch wrn-16-4 --input 32x32x3 --batch 128 [--classes 10] [--steps 3]
                       [--threads 2] [--device cpu|cuda] [--tf32 0|1]
      training-step images/s of the official WRN code (hendrycks/pre-training, as
      bench/wrn_torch.py writes it): SGD Nesterov 0.9, wd 5e-4, cross-entropy, random data;
      one warm-up step, then --steps timed steps.
  peer_pytorch.py conv --convs N,CIN,H,W,COUT,K,STRIDE,PAD[;...] [--repeat 3] [--threads 2]
                       [--device cpu|cuda] [--tf32 0|1]
      each convolution's forward (conv2d), input gradient (conv2d_input) and weight gradient
      (conv2d_weight) in ms, best of --repeat after a warm-up (cuDNN benchmark mode on CUDA).
  peer_pytorch.py gemm --shapes 1024x1024x1024,64x8192x576 [--repeat 3] [--threads 2]
      SGEMM GFLOP/s of numpy.matmul, best of --repeat, and which BLAS it used (Debian's numpy
      takes libblas.so.3: OpenBLAS when libopenblas0 is installed, else the reference BLAS;
      an unpacked libopenblas0-pthread .deb works too: LD_LIBRARY_PATH=.../openblas-pthread).

Prints one JSON object on stdout. Debian: python3-torch, python3-numpy."""
import argparse, json, os, sys, time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["step", "gemm", "conv"])
    p.add_argument("--arch", default="wrn-16-4")
    p.add_argument("--input", default="32x32x3", help="HxWxC")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--tf32", type=int, default=0, help="allow TF32 on CUDA (default off)")
    p.add_argument("--shapes", default="1024x1024x1024")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--convs", default="128,64,32,32,64,3,1,1")
    return p.parse_args()


def gemm(a):
    import numpy as np
    out = []
    for s in a.shapes.split(","):
        m, n, k = (int(v) for v in s.split("x"))
        x = np.full((m, k), 0.5, dtype=np.float32)
        y = np.full((k, n), 0.25, dtype=np.float32)
        z = x @ y  # warm-up
        best = 1e30
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            np.matmul(x, y, out=z)
            best = min(best, time.perf_counter() - t0)
        out.append({"m": m, "n": n, "k": k, "ms": best * 1e3, "gflops": 2.0 * m * n * k / best * 1e-9})
    return {"peer": "numpy", "numpy": np.__version__, "blas": loaded_blas(), "threads": a.threads,
            "results": out}


def loaded_blas():
    """The BLAS library this process mapped: Debian's numpy takes whichever libblas.so.3 the
    alternatives system (or LD_LIBRARY_PATH) gives, OpenBLAS or the slow reference BLAS."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "/" in line and "blas" in line.split("/")[-1].lower()}
    return ", ".join(sorted(os.path.realpath(p) for p in libs)) or "unknown"


def setup_torch(a):
    import torch
    torch.set_num_threads(a.threads)
    if a.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = bool(a.tf32)
        torch.backends.cudnn.allow_tf32 = bool(a.tf32)
        torch.backends.cudnn.benchmark = True
    return torch


def conv(a):
    torch = setup_torch(a)
    import torch.nn.functional as F
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def best_ms(fn):
        fn(); sync()  # warm-up (and cuDNN's algorithm search)
        best = 1e30
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            fn(); sync()
            best = min(best, time.perf_counter() - t0)
        return best * 1e3

    out = []
    for spec in a.convs.split(";"):
        n, cin, h, w, cout, k, st, pad = (int(v) for v in spec.split(","))
        x = torch.rand(n, cin, h, w, device=dev) * 2 - 1
        wt = torch.rand(cout, cin, k, k, device=dev) * 2 - 1
        y = F.conv2d(x, wt, stride=st, padding=pad)
        dy = torch.rand_like(y) * 2 - 1
        out.append({"conv": spec,
                    "fwd_ms": best_ms(lambda: F.conv2d(x, wt, stride=st, padding=pad)),
                    "dx_ms": best_ms(lambda: torch.nn.grad.conv2d_input(x.shape, wt, dy, stride=st, padding=pad)),
                    "dw_ms": best_ms(lambda: torch.nn.grad.conv2d_weight(x, wt.shape, dy, stride=st, padding=pad))})
    r = {"peer": "pytorch", "torch": torch.__version__, "device": a.device, "threads": a.threads,
         "results": out}
    if dev.type == "cuda":
        r["tf32"] = bool(a.tf32)
        r["gpu"] = torch.cuda.get_device_name(dev)
    return r


def step(a):
    torch = setup_torch(a)
    import torch.nn.functional as F
    from wrn_torch import WideResNet  # beside this script

    _, depth, widen = a.arch.split("-")
    h, w, c = (int(v) for v in a.input.split("x"))
    torch.manual_seed(1)
    dev = torch.device(a.device)
    net = WideResNet(int(depth), a.classes, int(widen), c).to(dev).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = (torch.rand(a.batch, c, h, w) * 2 - 1).to(dev)
    y = torch.randint(0, a.classes, (a.batch,)).to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def one():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()

    one(); sync()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.steps):
        one()
    sync()
    el = time.perf_counter() - t0
    r = {"peer": "pytorch", "torch": torch.__version__, "device": a.device, "threads": a.threads,
         "arch": a.arch, "input": a.input, "batch": a.batch, "steps": a.steps,
         "images_per_second": a.steps * a.batch / el, "ms_per_step": 1e3 * el / a.steps}
    if dev.type == "cuda":
        r["tf32"] = bool(a.tf32)
        r["gpu"] = torch.cuda.get_device_name(dev)
        r["peak_device_mib"] = torch.cuda.max_memory_allocated() / 1048576.0
    return r


def main():
    a = parse_args()
    if a.mode == "gemm":  # OpenBLAS reads its thread count at load
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    print(json.dumps({"gemm": gemm, "conv": conv, "step": step}[a.mode](a)))


if __name__ == "__main__":
    sys.exit(main())
