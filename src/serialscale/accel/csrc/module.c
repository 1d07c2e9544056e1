/* The module serialscale.accel._kernels: its method table (the kernels are in the other files
 * of this folder; kernels.h says which). */
#include "kernels.h"

static PyMethodDef methods[] = {
    {"resolve_names", k_resolve_names, METH_VARARGS, "Need names to CSR indices."},
    {"json_needs", k_json_needs, METH_VARARGS, "Undecoded JSON need lists to CSR indices."},
    {"json_duplicate_key", k_json_duplicate_key, METH_VARARGS, "First repeated JSON key."},
    {"count_duplicates", k_count_duplicates, METH_VARARGS, "Repeated needs within rows."},
    {"asap", k_asap, METH_VARARGS, "ASAP start and finish times (see metrics.asap_schedule)."},
    {"bottom_levels", k_bottom_levels, METH_VARARGS, "Bottom levels (see metrics.bottom_levels)."},
    {"schedule_plan", k_schedule_plan, METH_VARARGS, "Steps renumbered by priority for makespan()."},
    {"makespan", k_makespan, METH_VARARGS, "List-schedule makespan (see schedule.list_schedule_makespan)."},
    {"profile", k_profile, METH_VARARGS, "Parallelism profile segments (see metrics.profile)."},
    {"critical_path", k_critical_path, METH_VARARGS, "Critical path (see metrics.critical_path)."},
    {"near_critical", k_near_critical, METH_VARARGS, "The least positive slacks (see analysis.near_critical)."},
    {"slack", k_slack, METH_VARARGS, "Slack (see metrics.slack)."},
    {"successors", k_successors, METH_VARARGS, "Successor CSR from predecessor CSR."},
    {"topological_order", k_topological_order, METH_VARARGS, "Kahn's topological order."},
    {"check_graph_csr", k_check_graph_csr, METH_VARARGS, "Predecessor CSR checks (see graph._check_csr)."},
    {"costs_ok", k_costs_ok, METH_VARARGS, "Every cost finite and >= 0 (see graph.Graph)."},
    {"as_doubles", k_as_doubles, METH_VARARGS, "Integer costs as doubles (see graph.Graph.costs_f64)."},
    {"tape_csr", k_tape_csr, METH_VARARGS, "A tape's needs as predecessor CSR (see trace.recorder)."},
    {"occurrences", k_occurrences, METH_VARARGS, "Occurrence numbers of labels (step ids of a trace)."},
    {"rechain", k_rechain, METH_VARARGS, "Chain a watched sort's comparisons (trace/native_selection.py)."},
    {"drag_limits", k_drag_limits, METH_VARARGS, "Critical-path drag's interval sweep (see drag.drag)."},
    {"records", k_records, METH_VARARGS, "JSON text of a list of flat records (json_report)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Compiled kernels of serialscale.", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
