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
