/* The module serialscale.accel._kernels: its method table (the kernels are in the other files
 * of this folder; kernels.h says which). Each docstring opens with the kernel's signature
 * (Python reads it as __text_signature__): accel/pure_kernels.py has a twin of every kernel
 * with that same signature, and tests/test_seam.py compares the two. */
#include "kernels.h"

static PyMethodDef methods[] = {
    {"resolve_names", k_resolve_names, METH_VARARGS,
     "resolve_names($module, ids, needs, pred_ptr, pred_idx, optional_type=None, /)\n--\n\n" "Need names to CSR indices."},
    {"json_needs", k_json_needs, METH_VARARGS,
     "json_needs($module, ids, raws, pred_ptr, pred_idx, /)\n--\n\n" "Undecoded JSON need lists to CSR indices."},
    {"json_duplicate_key", k_json_duplicate_key, METH_VARARGS,
     "json_duplicate_key($module, data, /)\n--\n\n" "First repeated JSON key."},
    {"count_duplicates", k_count_duplicates, METH_VARARGS,
     "count_duplicates($module, pred_ptr, pred_idx, /)\n--\n\n" "Repeated needs within rows."},
    {"asap", k_asap, METH_VARARGS,
     "asap($module, order, pred_ptr, pred_idx, costs, extra, start, finish, /)\n--\n\n" "ASAP start and finish times (see metrics.asap_schedule)."},
    {"bottom_levels", k_bottom_levels, METH_VARARGS,
     "bottom_levels($module, order, succ_ptr, succ_idx, costs, out, /)\n--\n\n" "Bottom levels (see metrics.bottom_levels)."},
    {"schedule_plan", k_schedule_plan, METH_VARARGS,
     "schedule_plan($module, priority, costs, pred_ptr, succ_ptr, succ_idx, /)\n--\n\n" "Steps renumbered by priority for makespan()."},
    {"makespan", k_makespan, METH_VARARGS,
     "makespan($module, plan, processors, extra, /)\n--\n\n" "List-schedule makespan (see schedule.list_schedule_makespan)."},
    {"profile", k_profile, METH_VARARGS,
     "profile($module, start, finish, costs, integral, /)\n--\n\n" "Parallelism profile segments (see metrics.profile)."},
    {"critical_path", k_critical_path, METH_VARARGS,
     "critical_path($module, pred_ptr, pred_idx, succ_ptr, start, finish, depth, /)\n--\n\n" "Critical path (see metrics.critical_path)."},
    {"near_critical", k_near_critical, METH_VARARGS,
     "near_critical($module, slack, count, /)\n--\n\n" "The least positive slacks (see analysis.near_critical)."},
    {"most", k_most, METH_VARARGS,
     "most($module, values, count, /)\n--\n\n" "The largest values other than 0 (see analysis.top_drag)."},
    {"slack", k_slack, METH_VARARGS,
     "slack($module, start, levels, depth, tol, out, /)\n--\n\n" "Slack (see metrics.slack)."},
    {"successors", k_successors, METH_VARARGS,
     "successors($module, pred_ptr, pred_idx, succ_ptr, succ_idx, /)\n--\n\n" "Successor CSR from predecessor CSR."},
    {"topological_order", k_topological_order, METH_VARARGS,
     "topological_order($module, pred_ptr, succ_ptr, succ_idx, order, /)\n--\n\n" "Kahn's topological order."},
    {"check_graph_csr", k_check_graph_csr, METH_VARARGS,
     "check_graph_csr($module, pred_ptr, pred_idx, /)\n--\n\n" "Predecessor CSR checks (see graph._check_csr)."},
    {"costs_ok", k_costs_ok, METH_VARARGS,
     "costs_ok($module, costs, /)\n--\n\n" "Every cost finite and >= 0 (see graph.Graph)."},
    {"as_doubles", k_as_doubles, METH_VARARGS,
     "as_doubles($module, costs, out, /)\n--\n\n" "Integer costs as doubles (see graph.Graph.costs_f64)."},
    {"int_sum", k_int_sum, METH_VARARGS,
     "int_sum($module, values, /)\n--\n\n" "Exact sum of int64 values (see metrics.work)."},
    {"tape_csr", k_tape_csr, METH_VARARGS,
     "tape_csr($module, a, b, c, more_steps, more_ptr, more_idx, pred_ptr, pred_idx, /)\n--\n\n" "A tape's needs as predecessor CSR (see trace.recorder)."},
    {"tape_needs", k_tape_needs, METH_VARARGS,
     "tape_needs($module, a, b, c, /)\n--\n\n" "How many of a tape's needs are there (see trace.recorder)."},
    {"occurrences", k_occurrences, METH_VARARGS,
     "occurrences($module, site, labels, out, /)\n--\n\n" "Occurrence numbers of labels (step ids of a trace)."},
    {"spell_ids", k_spell_ids, METH_VARARGS,
     "spell_ids($module, labels, site, occurrence, indices, /)\n--\n\n" "Ids of traced steps, spelled (see step_ids.OccurrenceIds.take)."},
    {"rechain", k_rechain, METH_VARARGS,
     "rechain($module, a, b, c, site, comparing, lo, start, owner, last_of, /)\n--\n\n" "Chain a watched sort's comparisons (trace/native_selection.py)."},
    {"drag_limits", k_drag_limits, METH_VARARGS,
     "drag_limits($module, pred_ptr, pred_idx, path, finish, levels, slack, alpha, below, depth, bound, out, /)\n--\n\n" "Critical-path drag's interval sweep (see drag.drag)."},
    {"drag_values", k_drag_values, METH_VARARGS,
     "drag_values($module, order, pred_ptr, pred_idx, succ_ptr, succ_idx, costs, path, finish, levels, slack, depth, tol, out, on_path, /)\n--\n\n" "Critical-path drag in doubles, in one call (see drag.drag)."},
    {"records", k_records, METH_VARARGS,
     "records($module, items, newline, encode, /)\n--\n\n" "JSON text of a list of flat records (json_report)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Compiled kernels of serialscale.", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
