/* rcl_tensor_fill. A kernel rather than clEnqueueFillBuffer: oclgrind 21.10 counts only
 * the first element of a filled buffer as initialised. The value travels as its bits, so
 * a NaN payload or -0 comes out exactly as given whatever the build options. */
__kernel void tensor_fill(__global uint *y, uint bits, uint n) {
    uint i = get_global_id(0);
    if (i < n)
        y[i] = bits;
}
