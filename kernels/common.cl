/* Helpers shared by every kernel file; embedded first (kernels/embed.cmake). */

/* Counter-based random numbers; must equal include/robustcl/rng.h. */
uint rcl_hash(uint x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

float rcl_counter_uniform(uint seed, uint counter, uint index) {
    uint h = rcl_hash(rcl_hash(rcl_hash(index) ^ seed) ^ counter);
    return (float)(h >> 8) * (1.0f / 16777216.0f);
}

/* Sum of v over the work-group, returned to every item; all items must call it.
 * A fixed-order tree in local memory: deterministic, no atomics. The local size
 * must be a power of two. */
float rcl_group_sum(__local float *buf, float v) {
    uint lid = get_local_id(0), l = get_local_size(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = l / 2; s > 0; s >>= 1) {
        if (lid < s)
            buf[lid] += buf[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* buf is reused by the next call */
    return r;
}

int rcl_group_sum_int(__local int *buf, int v) {
    uint lid = get_local_id(0), l = get_local_size(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = l / 2; s > 0; s >>= 1) {
        if (lid < s)
            buf[lid] += buf[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    int r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
