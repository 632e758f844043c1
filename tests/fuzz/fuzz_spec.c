/* Dataset spec syntax and its classes= ranges, and the attack specs (never touches the file
 * system). */
#include "fuzz_util.h"
#include "robustcl/autoattack.h"
#include "robustcl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    char *text = malloc(n + 1);
    if (!text)
        return 0;
    memcpy(text, data, n);
    text[n] = 0;
    rcl_dataset_spec spec;
    if (rcl_dataset_spec_parse(text, &spec) == RCL_OK && spec.classes[0]) {
        int *classes, k;
        if (rcl_parse_class_ranges(spec.classes, &classes, &k) == RCL_OK)
            free(classes);
    }
    int *classes, k;
    if (rcl_parse_class_ranges(text, &classes, &k) == RCL_OK)
        free(classes);
    rcl_attack_config pgd;
    rcl_autoattack_config aa;
    char back[512];
    if (rcl_attack_parse(text, &pgd) == RCL_OK)
        rcl_attack_describe(&pgd, back, sizeof back);
    if (rcl_autoattack_parse(text, &aa) == RCL_OK)
        rcl_autoattack_describe(&aa, back, sizeof back);
    free(text);
    return 0;
}
