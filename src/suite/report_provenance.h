/* Run records in reports (robustcl/provenance.h): the report's own, as JSON text, and where the
 * records of the stages it merges differ (devices, drivers, versions), in the report's JSON, its
 * page's footer and a warning. bench's pages use the footer too. */
#ifndef RCL_REPORT_PROVENANCE_H
#define RCL_REPORT_PROVENANCE_H

#include <stdio.h>

#include "suite_internal.h"

/* The provenance object of a run on d (NULL: none) as JSON text (malloc'd; NULL when out of
 * memory); run NULL: the defaults. */
char *rcl_report_provenance_text(const rcl_run_config *run, rcl_device *d, rcl_model *m, const rcl_dataset *data,
                                 uint64_t seed);
/* "provenance": self, and "provenance_differences": [{"field", "values": {value: stages}}] for
 * each field whose value is not the same in every stage that has a record. */
void rcl_report_provenance_json(rcl_json_writer *w, const char *self, const rcl_run_result *runs, int n);
/* One warning line per field that differs across the stages (through rcl_log). */
void rcl_report_provenance_warn(const rcl_run_result *runs, int n);
/* The page's footer: self's fields, and the differing fields of the stages. */
void rcl_report_provenance_html(FILE *f, const char *self, const rcl_run_result *runs, int n);

#endif
