/* Writing JSON text fast: lists of flat records (render/json_report.py). */
#include "kernels.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    char *data;
    Py_ssize_t size, cap;
} Text;

static int put(Text *t, const char *s, Py_ssize_t n) {
    if (t->size + n > t->cap) {
        Py_ssize_t cap = t->cap ? t->cap : 4096;
        while (cap < t->size + n) cap *= 2;
        char *data = PyMem_Realloc(t->data, cap);
        if (!data) {
            PyErr_NoMemory();
            return -1;
        }
        t->data = data;
        t->cap = cap;
    }
    memcpy(t->data + t->size, s, n);
    t->size += n;
    return 0;
}

/* Append a str object's UTF-8 bytes. */
static int put_str(Text *t, PyObject *s) {
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    return u ? put(t, u, n) : -1;
}

/* Append the JSON text of a JSON-encoded string: `encode` is json's own string encoder. */
static int put_string(Text *t, PyObject *encode, PyObject *s) {
    PyObject *text = PyObject_CallOneArg(encode, s);
    if (!text) return -1;
    int r = -1;
    if (PyUnicode_Check(text)) r = put_str(t, text);
    else PyErr_SetString(PyExc_TypeError, "the string encoder did not return a str");
    Py_DECREF(text);
    return r;
}

/* 1 when `v` is a value the records path writes (None, bool, int, finite float, str: exact
 * types only), else 0: the caller then writes the list in Python. */
static int plain(PyObject *v) {
    if (v == Py_None || v == Py_True || v == Py_False) return 1;
    if (PyLong_CheckExact(v) || PyUnicode_CheckExact(v)) return 1;
    return PyFloat_CheckExact(v) && isfinite(PyFloat_AS_DOUBLE(v));
}

static int put_value(Text *t, PyObject *encode, PyObject *v) {
    if (v == Py_None) return put(t, "null", 4);
    if (v == Py_True) return put(t, "true", 4);
    if (v == Py_False) return put(t, "false", 5);
    if (PyUnicode_CheckExact(v)) return put_string(t, encode, v);
    if (PyFloat_CheckExact(v)) { /* float.__repr__, as json writes floats */
        char *s = PyOS_double_to_string(PyFloat_AS_DOUBLE(v), 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
        if (!s) return -1;
        int r = put(t, s, (Py_ssize_t)strlen(s));
        PyMem_Free(s);
        return r;
    }
    int overflow; /* an exact int: int.__repr__, directly when it fits in 64 bits */
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (!overflow && !(x == -1 && PyErr_Occurred())) {
        char digits[32];
        int len = snprintf(digits, sizeof digits, "%lld", x);
        return put(t, digits, len);
    }
    PyErr_Clear();
    PyObject *s = PyObject_Str(v);
    if (!s) return -1;
    int r = put_str(t, s);
    Py_DECREF(s);
    return r;
}

/* records(items, newline, encode) -> str or None
 * The JSON text of the list `items` of flat records (non-empty dicts, str keys, values as in
 * plain()), exactly as json.dumps(..., indent=2, ensure_ascii=False) writes that list when it
 * starts on a line indented as `newline` (a newline and spaces) says. `encode` is
 * json.encoder.encode_basestring. None when the list is empty or holds anything else. */
/* Records repeat their keys (the same str objects): their encoded text is kept here. */
#define KEY_CACHE 16
typedef struct {
    PyObject *key[KEY_CACHE]; /* borrowed: the records hold them */
    PyObject *text[KEY_CACHE]; /* owned: the encoded key */
    int size;
} Keys;

static int put_key(Text *t, Keys *keys, PyObject *encode, PyObject *key) {
    for (int i = 0; i < keys->size; i++)
        if (keys->key[i] == key) return put_str(t, keys->text[i]);
    PyObject *text = PyObject_CallOneArg(encode, key);
    if (!text) return -1;
    if (!PyUnicode_Check(text)) {
        Py_DECREF(text);
        PyErr_SetString(PyExc_TypeError, "the string encoder did not return a str");
        return -1;
    }
    int r = put_str(t, text);
    if (keys->size < KEY_CACHE) {
        keys->key[keys->size] = key;
        keys->text[keys->size++] = text;
    } else {
        Py_DECREF(text);
    }
    return r;
}

PyObject *k_records(PyObject *self, PyObject *args) {
    PyObject *items, *newline, *encode;
    if (!PyArg_ParseTuple(args, "O!UO", &PyList_Type, &items, &newline, &encode)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items);
    if (n == 0) Py_RETURN_NONE;
    for (Py_ssize_t i = 0; i < n; i++) { /* check everything first: no half-written text */
        PyObject *item = PyList_GET_ITEM(items, i), *key, *value;
        if (!PyDict_CheckExact(item) || PyDict_GET_SIZE(item) == 0) Py_RETURN_NONE;
        for (Py_ssize_t pos = 0; PyDict_Next(item, &pos, &key, &value);)
            if (!PyUnicode_CheckExact(key) || !plain(value)) Py_RETURN_NONE;
    }
    Py_ssize_t nl_size;
    const char *nl = PyUnicode_AsUTF8AndSize(newline, &nl_size);
    if (!nl) return NULL;
    Text t = {NULL, 0, 0};
    Keys keys = {{NULL}, {NULL}, 0};
    PyObject *out = NULL;
    /* inner = newline + 2 spaces (items), record = newline + 4 spaces (fields) */
    char *inner = PyMem_Malloc(nl_size + 4);
    if (!inner) return PyErr_NoMemory();
    memcpy(inner, nl, nl_size);
    memset(inner + nl_size, ' ', 4);
    Py_ssize_t inner_size = nl_size + 2, record_size = nl_size + 4;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(items, i), *key, *value;
        if (put(&t, i ? "," : "[", 1) < 0 || put(&t, inner, inner_size) < 0 || put(&t, "{", 1) < 0)
            goto done;
        int first = 1;
        for (Py_ssize_t pos = 0; PyDict_Next(item, &pos, &key, &value); first = 0) {
            if ((!first && put(&t, ",", 1) < 0) || put(&t, inner, record_size) < 0 ||
                put_key(&t, &keys, encode, key) < 0 || put(&t, ": ", 2) < 0 ||
                put_value(&t, encode, value) < 0)
                goto done;
        }
        if (put(&t, inner, inner_size) < 0 || put(&t, "}", 1) < 0) goto done;
    }
    if (put(&t, nl, nl_size) < 0 || put(&t, "]", 1) < 0) goto done;
    out = PyUnicode_DecodeUTF8(t.data, t.size, "strict");
done:
    for (int i = 0; i < keys.size; i++) Py_DECREF(keys.text[i]);
    PyMem_Free(inner);
    PyMem_Free(t.data);
    if (!out && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear(); /* a lone surrogate in a str: json writes it as it is; so does Python */
        Py_RETURN_NONE;
    }
    return out;
}
