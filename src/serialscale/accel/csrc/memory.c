/* Memory made ready ahead of use, for a process of serialscale's own (the target of a traced
 * function: see serialscale.trace.memory). A page first touched costs this kind of machine
 * 1.5-2 us (the kernel's fault, a zeroed page), and the graph and analysis that follow a
 * recording touch ~130 bytes of new memory per step: at 2 M steps, 60,000 pages, a quarter
 * of the command's time. The recording runs on one core; these two kernels let a thread on
 * the other one fault in the heap the analysis will take, while the recording goes on.
 *
 * glibc only (elsewhere both do nothing): keep_freed_memory makes every allocation come from
 * the main heap, never returned to the system (a large block is otherwise a mapping of its
 * own, unmapped when freed), so a block made ready and freed is what later allocations get;
 * prefault makes one ready. Neither changes a byte anyone reads: the pages are ours, made
 * present, and given back to malloc unchanged. */
#include "kernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define PAGE 4096
/* The largest block prefault takes (1 GiB): what calls it makes far less ready in a run */
#define PREFAULT_MOST ((Py_ssize_t)1 << 30)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* keep_freed_memory() -> bool: whether malloc now keeps what is freed in its main heap (see
 * above). False where that cannot be asked (not glibc, or a malloc that refuses: ASan's). */
PyObject *k_keep_freed_memory(PyObject *self, PyObject *args) {
    if (!PyArg_ParseTuple(args, "")) return NULL;
#if defined(__GLIBC__)
    /* mallopt returns 1 on success; one arena: a thread's blocks come from the main heap */
    int ok = mallopt(M_ARENA_MAX, 1) == 1 && mallopt(M_MMAP_MAX, 0) == 1 &&
             mallopt(M_TRIM_THRESHOLD, -1) == 1; /* -1: never trim */
    return PyBool_FromLong(ok);
#else
    Py_RETURN_FALSE;
#endif
}

/* prefault(size, base, ready) -> base: allocate `size` bytes, make their pages present,
 * free them, and return where they were (0: nothing was done). When they start at `base`
 * (what an earlier call returned: the same block, grown), the first `ready` bytes are taken
 * as present already. `base` is only compared, never followed. Without the GIL. Only a block
 * in the main heap (below the program break) is made ready: one elsewhere (another thread's
 * arena, a mapping) would not be what the analysis gets. */
PyObject *k_prefault(PyObject *self, PyObject *args) {
    Py_ssize_t size, ready;
    PyObject *base_obj;
    if (!PyArg_ParseTuple(args, "nO!n", &size, &PyLong_Type, &base_obj, &ready)) return NULL;
    unsigned long long base = PyLong_AsUnsignedLongLong(base_obj);
    if (base == (unsigned long long)-1 && PyErr_Occurred()) return NULL;
    if (size < 0 || ready < 0) {
        PyErr_SetString(PyExc_ValueError, "prefault: size and ready must be >= 0");
        return NULL;
    }
    if (size > PREFAULT_MOST) {
        PyErr_SetString(PyExc_ValueError, "prefault: size must be at most 1 GiB");
        return NULL;
    }
    uintptr_t at = 0;
#if defined(__GLIBC__) && defined(__linux__)
    if (size >= PAGE) {
        Py_BEGIN_ALLOW_THREADS
        char *p = malloc((size_t)size);
        if (p != NULL && (uintptr_t)p + (size_t)size <= (uintptr_t)sbrk(0)) {
            at = (uintptr_t)p;
            uintptr_t first = (at + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
            uintptr_t end = (at + (size_t)size) & ~(uintptr_t)(PAGE - 1);
            if (at == (uintptr_t)base && ready < size) {
                uintptr_t done = (at + (size_t)ready) & ~(uintptr_t)(PAGE - 1);
                if (done > first) first = done;
            } else if (at == (uintptr_t)base) {
                first = end;
            }
            if (first < end && madvise((void *)first, end - first, MADV_POPULATE_WRITE) != 0) {
                /* an older kernel: a write per page (the block is ours, and freed unread) */
                for (volatile char *q = (char *)first; q < (char *)end; q += PAGE) *q = 0;
            }
        }
        free(p);
        Py_END_ALLOW_THREADS
    }
#endif
    return PyLong_FromUnsignedLongLong((unsigned long long)at);
}
