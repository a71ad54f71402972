/* Count-only native port of ctok 1.3's tokenizer: normalisation, the marked stream and the
 * min-cost tiling, with the vocabulary in flat arrays instead of Python dicts.
 *
 * What is ported and what is not:
 *   - Unicode NFC is CPython's own (`unicodedata.normalize`, called through the C API).
 *   - Every per-codepoint predicate ctok asks (its class, case, mark, digit and border tests) is
 *     evaluated by ctok's own Python functions, 256 codepoints at a time on first sight
 *     (`set_props`), and kept here as flag words: the native path cannot drift from the Unicode
 *     tables ctok and the `regex` module use.
 *   - The rules that combine them (runs, case marking, border markers, the seam, the tiling and
 *     the frame's newline ladder) are ported line for line from ctok/normalize.py and engine.py.
 * Only the count is computed: no token strings, no back-pointers.  The tiling needs the cost of
 * the last `max_depth` positions only, so it keeps a ring of them.  Counting runs without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------- */
/* per-codepoint properties */

enum { C_WORDY = 0, C_HARD = 1, C_DIGIT = 2, C_PUNCT = 3, C_SPACE = 4, C_STRAY = 5 };

#define F_CLASS 0x7u          /* ctok classify() */
#define F_STRAY (1u << 3)     /* _stray_mark(c) */
#define F_KIND_SHIFT 4        /* _hard_kind(): 0 letter, 1 punct, 2 number */
#define F_KIND (3u << 4)
#define F_SELECTOR (1u << 6)  /* _is_selector */
#define F_MLP (1u << 7)       /* _marks_like_punct */
#define F_DBORDER (1u << 8)   /* _digit_border */
#define F_ND (1u << 9)        /* category Nd */
#define F_NO (1u << 10)       /* category No */
#define F_UPPER (1u << 11)    /* _is_upper */
#define F_LOWER (1u << 12)    /* _is_lower */
#define F_UNLOW (1u << 13)    /* the per-character term of mark_case's `unlowerable` */
#define F_LMULTI (1u << 14)   /* _lower(c) is several codepoints: `lower` indexes g_multi */

#define N_BLOCKS (0x110000 >> 8)

typedef struct { uint32_t flags, lower; } Prop;

static Prop *g_blocks[N_BLOCKS];
static PyObject *g_props_fn;      /* block index -> (bytes of 256 * (flags, lower), [(cp, str)]) */
static PyObject *g_normalize;     /* unicodedata.normalize */
/* Multi-codepoint lowercase forms ([0] = length; Python has one, 'İ'). A fixed table, so a
 * counting thread without the GIL never reads it while another thread grows it. */
#define MAX_MULTI 256
static uint32_t *g_multi[MAX_MULTI];
static int g_multi_n;

static inline const Prop *prop(uint32_t cp) { return &g_blocks[cp >> 8][cp & 255]; }

static int fill_block(uint32_t block) {
    if (!g_props_fn) { PyErr_SetString(PyExc_RuntimeError, "set_props() was not called"); return -1; }
    PyObject *res = PyObject_CallFunction(g_props_fn, "I", block);
    if (!res) return -1;
    PyObject *data, *multi;
    if (!PyArg_ParseTuple(res, "SO", &data, &multi) || !PyList_Check(multi)) {
        Py_DECREF(res);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "props: (bytes, list) expected");
        return -1;
    }
    if (PyBytes_GET_SIZE(data) != 256 * 8) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_ValueError, "props: 2048 bytes expected");
        return -1;
    }
    Prop *blk = PyMem_RawMalloc(256 * sizeof(Prop));
    if (!blk) { Py_DECREF(res); PyErr_NoMemory(); return -1; }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(data);
    for (int i = 0; i < 256; i++) {
        const unsigned char *r = b + 8 * i;
        blk[i].flags = (uint32_t)r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 | (uint32_t)r[3] << 24;
        blk[i].lower = (uint32_t)r[4] | (uint32_t)r[5] << 8 | (uint32_t)r[6] << 16 | (uint32_t)r[7] << 24;
    }
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(multi); k++) {
        PyObject *item = PyList_GET_ITEM(multi, k);
        unsigned int cp;
        PyObject *s;
        if (!PyArg_ParseTuple(item, "IU", &cp, &s) || (cp >> 8) != block) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "props: bad multi entry");
            PyMem_RawFree(blk);
            Py_DECREF(res);
            return -1;
        }
        Py_ssize_t n = PyUnicode_GET_LENGTH(s);
        uint32_t *m = PyMem_RawMalloc((size_t)(n + 1) * sizeof(uint32_t));
        if (!m) { PyMem_RawFree(blk); Py_DECREF(res); PyErr_NoMemory(); return -1; }
        m[0] = (uint32_t)n;
        for (Py_ssize_t q = 0; q < n; q++) m[q + 1] = PyUnicode_READ_CHAR(s, q);
        if (g_multi_n == MAX_MULTI) {
            PyMem_RawFree(m);
            PyMem_RawFree(blk);
            Py_DECREF(res);
            PyErr_SetString(PyExc_ValueError, "props: too many multi-codepoint lowercase forms");
            return -1;
        }
        g_multi[g_multi_n] = m;
        blk[cp & 255].flags |= F_LMULTI;
        blk[cp & 255].lower = (uint32_t)g_multi_n++;
    }
    Py_DECREF(res);
    g_blocks[block] = blk;
    return 0;
}

static int ensure_props(const uint32_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t b = s[i] >> 8;
        if (!g_blocks[b] && fill_block(b) < 0) return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* growable codepoint buffer */

typedef struct { uint32_t *p; size_t n, cap; int oom; } Buf;

static int buf_reserve(Buf *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra) cap *= 2;
    uint32_t *p = PyMem_RawRealloc(b->p, cap * sizeof(uint32_t));
    if (!p) { b->oom = 1; return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline void put(Buf *b, uint32_t c) {
    if (b->n == b->cap && buf_reserve(b, 1) < 0) return;
    b->p[b->n++] = c;
}

/* ---------------------------------------------------------------------------------------------- */
/* the vocabulary: a reverse trie in breadth-first order, so a node's children are contiguous and
 * sorted by codepoint, then laid out as a double array (one probe per step) */

typedef struct {
    /* the reverse trie as a double array: the child of node p by codepoint code c is
     * t = base[p] + c when check[t] == p + 1; the top bit of base marks a piece ending at p */
    uint32_t *base, *check;
    uint32_t size, nodes;
    uint32_t **code_tab;  /* codepoint -> alphabet code (0: in no piece), by 256-codepoint block */
    int max_depth;
    /* byte floor */
    uint64_t *bytekeys;   /* (len << 32 | packed bytes), sorted */
    Py_ssize_t nbytekeys;
    int byte_max_len;
    /* family scalars */
    int allcaps_min;      /* -1: never ⟨caps⟩ */
    int frame_bow;
    int fold_quotes;
} Vocab;

#define TERM 0x80000000u

#define BOW_G 0xFDD0u
#define EOW_G 0xFDD1u
#define SHIFT_G 0xFDD3u
#define CAPS_G 0xFDD4u

static inline uint32_t code_of(const Vocab *v, uint32_t cp) {
    const uint32_t *t = v->code_tab[cp >> 8];
    return t ? t[cp & 255] : 0;
}

/* the child of double-array node p by alphabet code c, 0 if none (the root is never a child) */
static inline uint32_t da_child(const Vocab *v, uint32_t p, uint32_t c) {
    if (!c) return 0;
    uint32_t t = (v->base[p] & ~TERM) + c;
    return v->check[t] == p + 1 ? t : 0;
}

static inline int is_term(const Vocab *v, uint32_t p) { return (v->base[p] & TERM) != 0; }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int has_bytes(const Vocab *v, const unsigned char *p, int len) {
    uint64_t key = (uint64_t)len << 32;
    for (int i = 0; i < len; i++) key |= (uint64_t)p[i] << (8 * (3 - i));
    Py_ssize_t lo = 0, hi = v->nbytekeys;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (v->bytekeys[mid] < key) lo = mid + 1; else hi = mid;
    }
    return lo < v->nbytekeys && v->bytekeys[lo] == key;
}

static int utf8(uint32_t c, unsigned char *o) {
    if (c < 0x80) { o[0] = (unsigned char)c; return 1; }
    if (c < 0x800) { o[0] = 0xC0 | (c >> 6); o[1] = 0x80 | (c & 63); return 2; }
    if (c < 0x10000) { o[0] = 0xE0 | (c >> 12); o[1] = 0x80 | ((c >> 6) & 63); o[2] = 0x80 | (c & 63); return 3; }
    o[0] = 0xF0 | (c >> 18); o[1] = 0x80 | ((c >> 12) & 63); o[2] = 0x80 | ((c >> 6) & 63); o[3] = 0x80 | (c & 63);
    return 4;
}

static inline int is_marker_glyph(uint32_t c) {
    return c == BOW_G || c == EOW_G || c == SHIFT_G || c == CAPS_G;
}

/* engine.char_cost / ByteFloor.cost_char: a unit piece costs 1, else min tiling of its UTF-8 */
static int char_cost(const Vocab *v, uint32_t c) {
    if (c >= 0xE000 && c <= 0xE004) c = 0xFDD0 + (c - 0xE000);  /* ESCAPED_MARKER_LITERALS */
    if (!is_marker_glyph(c)) {
        uint32_t node = da_child(v, 0, code_of(v, c));
        if (node && is_term(v, node)) return 1;
    }
    unsigned char b[4];
    int n = utf8(c, b), best[5];
    best[0] = 0;
    for (int i = 1; i <= n; i++) {
        best[i] = 1 << 20;
        int lo = i - v->byte_max_len < 0 ? 0 : i - v->byte_max_len;
        for (int j = lo; j < i; j++)
            if ((i - j == 1 || has_bytes(v, b + j, i - j)) && best[j] + 1 < best[i]) best[i] = best[j] + 1;
    }
    return best[n];
}

static inline int unit_floor(const Vocab *v, uint32_t c) {
    return is_marker_glyph(c) ? 1 : char_cost(v, c);
}

/* engine.min_vocab_tile, cost only, over s[0..m) */
static long long tile_cost(const Vocab *v, const uint32_t *s, size_t m, int newline_unit) {
    int ring = 1;
    while (ring <= v->max_depth + 1) ring <<= 1;
    int mask = ring - 1;
    uint32_t *codes = PyMem_RawMalloc((m + 1) * sizeof(uint32_t));
    long long stackbuf[512], *best = ring <= 512 ? stackbuf : PyMem_RawMalloc(sizeof(long long) * (size_t)ring);
    if (!best || !codes) {
        PyMem_RawFree(codes);
        if (best != stackbuf) PyMem_RawFree(best);
        return -1;
    }
    for (size_t k = 0; k < m; k++) codes[k] = code_of(v, s[k]);
    best[0] = 0;
    for (size_t end = 1; end <= m; end++) {
        size_t start = end - 1;
        uint32_t node = da_child(v, 0, codes[start]);
        long long cost = best[start & mask] +
            ((node && is_term(v, node)) ? 1 : (newline_unit ? 1 : unit_floor(v, s[start])));
        if (node) {
            for (size_t st = start; st-- > 0;) {
                node = da_child(v, node, codes[st]);
                if (!node) break;
                if (is_term(v, node) && best[st & mask] + 1 < cost) cost = best[st & mask] + 1;
            }
        }
        best[end & mask] = cost;
    }
    long long out = best[m & mask];
    if (best != stackbuf) PyMem_RawFree(best);
    PyMem_RawFree(codes);
    return out;
}

/* engine.frame_tail: tokens a content-final run of n newlines adds beyond the frame's own */
static long long frame_tail(const Vocab *v, size_t n) {
    if (n == 0) return 0;
    uint32_t *run = malloc((n + 2) * sizeof(uint32_t));
    if (!run) return -1;
    for (size_t i = 0; i < n + 2; i++) run[i] = '\n';
    long long c = tile_cost(v, run, n + 2, 1);
    free(run);
    return c < 0 ? -1 : c - 1;
}

/* ---------------------------------------------------------------------------------------------- */
/* normalize.nfc after unicodedata.normalize: strip controls, NUL -> space, Thai SARA AM, strip
 * BMP private use, (v3) fold curly quotes, funny spaces -> space */

static inline int strip_control(uint32_t c) {
    return (c >= 0x01 && c <= 0x08) || (c >= 0x0B && c <= 0x1F) || (c >= 0x7F && c <= 0x9F);
}

static inline int funny_space(uint32_t c) {
    return c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F;
}

static inline void nfc_tail(Buf *o, uint32_t c, int fold_quotes) {
    if (c >= 0xE000 && c <= 0xF8FF) return;
    if (fold_quotes) {
        if (c == 0x2018 || c == 0x2019) c = '\'';
        else if (c == 0x201C || c == 0x201D) c = '"';
    }
    if (funny_space(c)) c = ' ';
    put(o, c);
}

static void nfc_post(const uint32_t *a, size_t n, int fold_quotes, Buf *o) {
    int pending = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = a[i];
        if (strip_control(c)) continue;
        if (c == 0) c = ' ';
        if (pending) {
            pending = 0;
            if (c == 0x0E32) { nfc_tail(o, 0x0E33, fold_quotes); continue; }
            nfc_tail(o, 0x0E4D, fold_quotes);
        }
        if (c == 0x0E4D) { pending = 1; continue; }
        nfc_tail(o, c, fold_quotes);
    }
    if (pending) nfc_tail(o, 0x0E4D, fold_quotes);
}

/* ---------------------------------------------------------------------------------------------- */
/* normalize.stream_norm */

typedef struct { size_t start, end; int cls; } Run;

static inline uint32_t F(uint32_t c) { return prop(c)->flags; }
static inline int cls_of(uint32_t c) { return (int)(F(c) & F_CLASS); }
static inline int kind_of(uint32_t c) { return (int)((F(c) & F_KIND) >> F_KIND_SHIFT); }

static inline int hard_border(uint32_t c) { return (F(c) & (F_SELECTOR | F_MLP)) != 0; }

static int digit_run(const uint32_t *s, const Run *r) {
    uint32_t cat = F(s[r->start]) & (F_ND | F_NO);
    if (!cat) return 0;
    for (size_t k = r->start + 1; k < r->end; k++)
        if ((F(s[k]) & (F_ND | F_NO)) != cat) return 0;
    return 1;
}

static inline int digit_bow(const uint32_t *s, const Run *r) {
    return digit_run(s, r) && (F(s[r->start]) & F_DBORDER);
}

static inline int digit_eow(const uint32_t *s, const Run *r) {
    return digit_run(s, r) && (F(s[r->end - 1]) & F_DBORDER);
}

static inline int takes_right_border(const uint32_t *s, const Run *r) {
    return r->cls == C_PUNCT || hard_border(s[r->end - 1]) ||
           ((r->cls == C_DIGIT || r->cls == C_HARD) && digit_eow(s, r));
}

static inline int body_is(const uint32_t *s, const Run *r, const char *lit) {
    size_t n = strlen(lit);
    if (r->end - r->start != n) return 0;
    for (size_t k = 0; k < n; k++)
        if (s[r->start + k] != (unsigned char)lit[k]) return 0;
    return 1;
}

static int opens_word(const uint32_t *s, const Run *runs, size_t nr, size_t i) {
    return body_is(s, &runs[i], "'") && i + 1 < nr && (runs[i + 1].cls == C_WORDY || runs[i + 1].cls == C_STRAY);
}

static int contraction_seam(const uint32_t *s, const Run *runs, size_t i) {
    static const char *suffixes[] = {"s", "t", "d", "m", "ll", "re", "ve"};
    int hit = 0;
    for (int k = 0; k < 7 && !hit; k++) hit = body_is(s, &runs[i], suffixes[k]);
    if (!hit || i == 0) return 0;
    if (runs[i - 1].cls != C_PUNCT || !body_is(s, &runs[i - 1], "'")) return 0;
    return i < 2 || !takes_right_border(s, &runs[i - 2]);
}

static int borders_space(const Vocab *v, const uint32_t *s, const Run *runs, size_t nr, size_t i, int side) {
    if (side < 0 && i == 0) return v->frame_bow;
    size_t j = side < 0 ? i - 1 : i + 1;
    if (j >= nr) return 0;
    const Run *r = &runs[j];
    if (r->cls != C_SPACE) return 0;
    if (side < 0) return s[r->end - 1] == ' ';
    return s[r->start] == ' ' && !(r->end - r->start >= 2 && s[r->start + 1] == ' ');
}

static inline void put_lower(Buf *o, uint32_t c, int sigma) {
    const Prop *p = prop(c);
    if (p->flags & F_LMULTI) {
        const uint32_t *m = g_multi[p->lower];
        for (uint32_t k = 1; k <= m[0]; k++) put(o, sigma && m[k] == 0x03C2 ? 0x03C3 : m[k]);
    } else {
        put(o, sigma && p->lower == 0x03C2 ? 0x03C3 : p->lower);
    }
}

static inline int lower_is_self(uint32_t c) {
    const Prop *p = prop(c);
    return !(p->flags & F_LMULTI) && p->lower == c;
}

/* mark_case + the wordy branch of stream_norm: [case marker][⟨bow⟩]body⟨eow⟩ */
static void put_word(const Vocab *v, Buf *o, const uint32_t *s, size_t a, size_t e, int head_mark, int bow) {
    enum { LIT, SHIFT, CAPS, SHIFT_KEEP_IDOT } mode = LIT;
    if (!head_mark) {
        int sharp_s = 0, idot = 0;
        for (size_t k = a; k < e; k++) {
            if (s[k] == 0x1E9E) sharp_s = 1;
            if (s[k] == 0x0130) idot = 1;
        }
        if (sharp_s) {
            mode = LIT;
        } else if (idot) {
            if ((F(s[a]) & F_UPPER) && s[a] != 0x0130) {
                int up = 0;
                for (size_t k = a + 1; k < e && !up; k++) up = s[k] != 0x0130 && (F(s[k]) & F_UPPER);
                if (!up) mode = SHIFT_KEEP_IDOT;
            }
        } else {
            int unlow = 0, cased = 0, all_up = 1;
            for (size_t k = a; k < e; k++) {
                uint32_t f = F(s[k]);
                if (f & F_UNLOW) unlow = 1;
                if (f & (F_UPPER | F_LOWER)) {
                    cased = 1;
                    if (!(f & F_UPPER)) all_up = 0;
                }
            }
            if (v->allcaps_min >= 0 && cased && all_up && (long long)(e - a) >= v->allcaps_min && !unlow) {
                mode = CAPS;
            } else if (lower_is_self(s[a])) {
                mode = LIT;
            } else if (F(s[a]) & F_UPPER) {
                int up = 0;
                for (size_t k = a + 1; k < e && !up; k++) up = (F(s[k]) & F_UPPER) != 0;
                if (!up) mode = SHIFT;
            }
        }
    }
    if (buf_reserve(o, 2 * (e - a) + 3) < 0) return;
    if (mode == SHIFT || mode == SHIFT_KEEP_IDOT) put(o, SHIFT_G);
    else if (mode == CAPS) put(o, CAPS_G);
    if (bow) put(o, BOW_G);
    for (size_t k = a; k < e; k++) {
        if (mode == LIT || (mode == SHIFT_KEEP_IDOT && k > a && s[k] == 0x0130)) put(o, s[k]);
        else put_lower(o, s[k], mode == CAPS);
    }
    put(o, EOW_G);
}

/* runs (normalize._runs), including the split of HARD runs by _hard_kind */
static Run *make_runs(const uint32_t *s, size_t n, size_t *nr_out) {
    Run *runs = PyMem_RawMalloc((n + 1) * sizeof(Run));
    if (!runs) return NULL;
    size_t nr = 0;
    size_t cur = 0;
    int cur_cls = cls_of(s[0]);
    if (cur_cls == C_WORDY && (F(s[0]) & F_STRAY)) cur_cls = C_STRAY;
    for (size_t i = 1; i < n; i++) {
        uint32_t f = F(s[i]);
        int c = (int)(f & F_CLASS);
        int stray = c == C_WORDY && (f & F_STRAY);
        if (cur_cls == C_STRAY && stray) continue;
        if (c == cur_cls) continue;
        runs[nr++] = (Run){cur, i, cur_cls};
        cur = i;
        cur_cls = (stray && cur_cls != C_WORDY) ? C_STRAY : c;
    }
    runs[nr++] = (Run){cur, n, cur_cls};

    /* split HARD runs where the character kind changes (selectors ride their base); in place is
     * impossible as splitting grows the list, so count first */
    size_t extra = 0;
    for (size_t r = 0; r < nr; r++) {
        if (runs[r].cls != C_HARD || runs[r].end - runs[r].start == 1) continue;
        int kind = kind_of(s[runs[r].start]);
        for (size_t k = runs[r].start + 1; k < runs[r].end; k++) {
            if ((F(s[k]) & F_SELECTOR) || kind_of(s[k]) == kind) continue;
            extra++;
            kind = kind_of(s[k]);
        }
    }
    if (extra) {
        Run *split = PyMem_RawMalloc((nr + extra) * sizeof(Run));
        if (!split) { PyMem_RawFree(runs); return NULL; }
        size_t q = 0;
        for (size_t r = 0; r < nr; r++) {
            if (runs[r].cls != C_HARD || runs[r].end - runs[r].start == 1) { split[q++] = runs[r]; continue; }
            size_t st = runs[r].start;
            int kind = kind_of(s[st]);
            for (size_t k = st + 1; k < runs[r].end; k++) {
                if ((F(s[k]) & F_SELECTOR) || kind_of(s[k]) == kind) continue;
                split[q++] = (Run){st, k, C_HARD};
                st = k;
                kind = kind_of(s[k]);
            }
            split[q++] = (Run){st, runs[r].end, C_HARD};
        }
        PyMem_RawFree(runs);
        runs = split;
        nr = q;
    }
    *nr_out = nr;
    return runs;
}

static void put_span(Buf *o, const uint32_t *s, size_t a, size_t e) {
    if (buf_reserve(o, e - a) < 0) return;
    memcpy(o->p + o->n, s + a, (e - a) * sizeof(uint32_t));
    o->n += e - a;
}

/* the marked stream, before the seam law, over text whose marker literals `prepare` escaped */
static int stream_norm(const Vocab *v, uint32_t *s, size_t n, int raw_head_space, Buf *o) {
    while (n && s[n - 1] == '\n') n--;
    if (v->frame_bow && raw_head_space && n && s[0] == ' ' && !(n >= 2 && s[1] == ' ')) { s++; n--; }
    if (!n) {
        if (v->frame_bow) put(o, BOW_G);
        return 0;
    }
    size_t nr;
    Run *runs = make_runs(s, n, &nr);
    if (!runs) return -1;

    const Run *first = &runs[0];
    int head_quote = opens_word(s, runs, nr, 0);
    int own_bow = !head_quote &&
        (first->cls == C_WORDY || first->cls == C_PUNCT || first->cls == C_STRAY || hard_border(s[first->start]) ||
         ((first->cls == C_DIGIT || first->cls == C_HARD) && digit_bow(s, first)) ||
         (first->cls == C_SPACE && s[first->start] == ' '));
    if (!own_bow && v->frame_bow) put(o, head_quote ? ' ' : BOW_G);

    for (size_t i = 0; i < nr; i++) {
        const Run *r = &runs[i];
        int cls = r->cls;
        if (cls == C_WORDY) {
            int fused = i > 0 && runs[i - 1].cls == C_STRAY;
            int bow = !(fused || contraction_seam(s, runs, i));
            put_word(v, o, s, r->start, r->end, fused, bow);
        } else if (cls == C_STRAY) {
            int letter_follows = i + 1 < nr && runs[i + 1].cls == C_WORDY;
            put(o, BOW_G);
            put_span(o, s, r->start, r->end);
            if (!letter_follows) put(o, EOW_G);
        } else if (cls == C_PUNCT || hard_border(s[r->start]) || hard_border(s[r->end - 1])) {
            int takes_bow = borders_space(v, s, runs, nr, i, -1) && !opens_word(s, runs, nr, i) &&
                            (cls == C_PUNCT || hard_border(s[r->start]));
            int takes_eow = borders_space(v, s, runs, nr, i, +1) && (cls == C_PUNCT || hard_border(s[r->end - 1]));
            if (takes_bow) put(o, BOW_G);
            put_span(o, s, r->start, r->end);
            if (takes_eow) put(o, EOW_G);
        } else if ((cls == C_DIGIT || cls == C_HARD) && digit_run(s, r)) {
            if (digit_bow(s, r) && borders_space(v, s, runs, nr, i, -1)) put(o, BOW_G);
            put_span(o, s, r->start, r->end);
            if (digit_eow(s, r) && borders_space(v, s, runs, nr, i, +1)) put(o, EOW_G);
        } else {
            put_span(o, s, r->start, r->end);
        }
    }
    PyMem_RawFree(runs);
    return o->oom ? -1 : 0;
}

/* SEAM_RE.sub: "(.)⟨eow⟩ ([⟨shift⟩⟨caps⟩]*)⟨bow⟩" -> "\1⟨eow⟩\2⟨bow⟩", leftmost, non-overlapping
 * (`.` is any codepoint but a newline); in place, since it only deletes */
static size_t seam(uint32_t *s, size_t n) {
    size_t w = 0, p = 0;
    while (p < n) {
        if (s[p] != '\n' && p + 2 < n && s[p + 1] == EOW_G && s[p + 2] == ' ') {
            size_t q = p + 3;
            while (q < n && (s[q] == SHIFT_G || s[q] == CAPS_G)) q++;
            if (q < n && s[q] == BOW_G) {
                s[w++] = s[p];
                s[w++] = EOW_G;
                for (size_t k = p + 3; k <= q; k++) s[w++] = s[k];
                p = q + 1;
                continue;
            }
        }
        s[w++] = s[p++];
    }
    return w;
}

/* ---------------------------------------------------------------------------------------------- */
/* loading: a minimal JSON reader for ctok's vocabulary documents (only what the tiler needs) */

typedef struct {
    const unsigned char *p, *end;
    const char *err;
} J;

static void jws(J *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int decode_utf8(const unsigned char **pp, const unsigned char *end, uint32_t *out) {
    const unsigned char *p = *pp;
    uint32_t c = *p++;
    int more = 0;
    if (c < 0x80) more = 0;
    else if ((c & 0xE0) == 0xC0) { c &= 0x1F; more = 1; }
    else if ((c & 0xF0) == 0xE0) { c &= 0x0F; more = 2; }
    else if ((c & 0xF8) == 0xF0) { c &= 0x07; more = 3; }
    else return -1;
    for (int k = 0; k < more; k++) {
        if (p >= end || (*p & 0xC0) != 0x80) return -1;
        c = c << 6 | (*p++ & 0x3F);
    }
    *pp = p;
    *out = c;
    return 0;
}

/* a JSON string into `o` as codepoints (j->p at the opening quote) */
static int jstring(J *j, Buf *o) {
    if (j->p >= j->end || *j->p != '"') { j->err = "string expected"; return -1; }
    j->p++;
    while (j->p < j->end && *j->p != '"') {
        uint32_t c;
        if (*j->p == '\\') {
            if (j->p + 1 >= j->end) { j->err = "bad escape"; return -1; }
            unsigned char e = j->p[1];
            j->p += 2;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = 8; break;
            case 'f': c = 12; break;
            case 'n': c = 10; break;
            case 'r': c = 13; break;
            case 't': c = 9; break;
            case 'u': {
                if (j->end - j->p < 4) { j->err = "bad \\u"; return -1; }
                c = 0;
                for (int k = 0; k < 4; k++) {
                    int h = hexval(j->p[k]);
                    if (h < 0) { j->err = "bad \\u"; return -1; }
                    c = c << 4 | (uint32_t)h;
                }
                j->p += 4;
                if (c >= 0xD800 && c <= 0xDBFF && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                    uint32_t lo = 0;
                    int ok = 1;
                    for (int k = 0; k < 4; k++) {
                        int h = hexval(j->p[2 + k]);
                        if (h < 0) ok = 0; else lo = lo << 4 | (uint32_t)h;
                    }
                    if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                        c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                        j->p += 6;
                    }
                }
                break;
            }
            default: j->err = "bad escape"; return -1;
            }
        } else if (decode_utf8(&j->p, j->end, &c) < 0) {
            j->err = "bad UTF-8";
            return -1;
        }
        put(o, c);
    }
    if (j->p >= j->end) { j->err = "unterminated string"; return -1; }
    j->p++;
    return o->oom ? -1 : 0;
}

static int jskip(J *j, int depth) {
    jws(j);
    if (j->p >= j->end || depth > 64) { j->err = "value expected"; return -1; }
    unsigned char c = *j->p;
    if (c == '"') {  /* skipped without decoding: only the escapes matter for where it ends */
        for (j->p++; j->p < j->end && *j->p != '"'; j->p++)
            if (*j->p == '\\') j->p++;
        if (j->p >= j->end) { j->err = "unterminated string"; return -1; }
        j->p++;
        return 0;
    }
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        j->p++;
        jws(j);
        if (j->p < j->end && *j->p == close) { j->p++; return 0; }
        for (;;) {
            if (c == '{') {
                jws(j);
                if (jskip(j, depth + 1) < 0) return -1;
                jws(j);
                if (j->p >= j->end || *j->p != ':') { j->err = "':' expected"; return -1; }
                j->p++;
            }
            if (jskip(j, depth + 1) < 0) return -1;
            jws(j);
            if (j->p < j->end && *j->p == ',') { j->p++; continue; }
            if (j->p < j->end && *j->p == close) { j->p++; return 0; }
            j->err = "',' or close expected";
            return -1;
        }
    }
    while (j->p < j->end && (strchr("+-.0123456789eE", *j->p) || (*j->p >= 'a' && *j->p <= 'z'))) j->p++;
    return 0;
}

/* strict UTF-8, as bytes.decode("utf-8"): no overlongs, surrogates or codepoints past U+10FFFF */
static int decode_utf8_strict(const unsigned char **pp, const unsigned char *end, uint32_t *out) {
    const unsigned char *p = *pp;
    uint32_t c;
    if (decode_utf8(&p, end, &c) < 0) return -1;
    int len = (int)(p - *pp);
    static const uint32_t min_of[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min_of[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return -1;
    *pp = p;
    *out = c;
    return 0;
}

static int flush_bytes(unsigned char *bytes, size_t *nb, Buf *o) {
    const unsigned char *bp = bytes, *be = bytes + *nb;
    while (bp < be) {
        uint32_t c;
        if (decode_utf8_strict(&bp, be, &c) < 0) return -1;
        put(o, c);
    }
    *nb = 0;
    return 0;
}

/* ctok notation.parse_marked over codepoints: named atoms to glyphs (⟨pad⟩ stays literal, as
 * there), runs of ⟨0xNN⟩ atoms decoded as UTF-8 */
static int parse_marked(const uint32_t *s, size_t n, Buf *o) {
    static const char *names[] = {"bow", "eow", "shift", "caps", "pad"};
    static const uint32_t glyphs[] = {BOW_G, EOW_G, SHIFT_G, CAPS_G, 0};
    static const uint32_t pad[] = {0x27E8, 'p', 'a', 'd', 0x27E9};
    unsigned char bytes[512];
    size_t nb = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == 0x27E8) {
            int found = -1;
            size_t len = 0;
            for (int k = 0; k < 5 && found < 0; k++) {
                len = strlen(names[k]);
                if (i + len + 1 >= n || s[i + 1 + len] != 0x27E9) continue;
                int ok = 1;
                for (size_t q = 0; q < len && ok; q++) ok = s[i + 1 + q] == (unsigned char)names[k][q];
                if (ok) found = k;
            }
            if (found >= 0) {
                if (flush_bytes(bytes, &nb, o) < 0) return -1;
                if (glyphs[found]) put(o, glyphs[found]);
                else for (int z = 0; z < 5; z++) put(o, pad[z]);
                i += len + 2;
                continue;
            }
            if (i + 5 < n && s[i + 1] == '0' && s[i + 2] == 'x' && s[i + 5] == 0x27E9 && s[i + 3] < 128 &&
                s[i + 4] < 128 && hexval((int)s[i + 3]) >= 0 && hexval((int)s[i + 4]) >= 0) {
                if (nb == sizeof bytes) return -1;
                bytes[nb++] = (unsigned char)(hexval((int)s[i + 3]) << 4 | hexval((int)s[i + 4]));
                i += 6;
                continue;
            }
        }
        if (flush_bytes(bytes, &nb, o) < 0) return -1;
        put(o, s[i]);
        i++;
    }
    if (flush_bytes(bytes, &nb, o) < 0) return -1;
    return o->oom ? -1 : 0;
}

/* the "meta" object's scalar members, as a dict */
static PyObject *read_meta(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    J j = {view.buf, (const unsigned char *)view.buf + view.len, NULL};
    PyObject *out = PyDict_New();
    Buf key = {0};
    if (!out) goto fail;
    jws(&j);
    if (j.p >= j.end || *j.p != '{') { j.err = "object expected"; goto fail; }
    j.p++;
    for (;;) {
        jws(&j);
        if (j.p < j.end && *j.p == '}') break;
        key.n = 0;
        if (jstring(&j, &key) < 0) goto fail;
        jws(&j);
        if (j.p >= j.end || *j.p != ':') { j.err = "':' expected"; goto fail; }
        j.p++;
        jws(&j);
        int is_meta = key.n == 4 && key.p[0] == 'm' && key.p[1] == 'e' && key.p[2] == 't' && key.p[3] == 'a';
        if (is_meta && j.p < j.end && *j.p == '{') {
            j.p++;
            for (;;) {
                jws(&j);
                if (j.p < j.end && *j.p == '}') { j.p++; break; }
                key.n = 0;
                if (jstring(&j, &key) < 0) goto fail;
                jws(&j);
                if (j.p >= j.end || *j.p != ':') { j.err = "':' expected"; goto fail; }
                j.p++;
                jws(&j);
                const unsigned char *v0 = j.p;
                if (j.p < j.end && *j.p != '"' && *j.p != '{' && *j.p != '[') {
                    if (jskip(&j, 0) < 0) goto fail;
                    PyObject *val = NULL;
                    size_t len = (size_t)(j.p - v0);
                    if (len == 4 && !memcmp(v0, "true", 4)) val = Py_NewRef(Py_True);
                    else if (len == 5 && !memcmp(v0, "false", 5)) val = Py_NewRef(Py_False);
                    else if (len == 4 && !memcmp(v0, "null", 4)) val = Py_NewRef(Py_None);
                    else {
                        char num[64];
                        if (len >= sizeof num) { j.err = "number too long"; goto fail; }
                        memcpy(num, v0, len);
                        num[len] = 0;
                        char *endp;
                        long long x = strtoll(num, &endp, 10);
                        val = *endp ? PyFloat_FromDouble(strtod(num, NULL)) : PyLong_FromLongLong(x);
                    }
                    PyObject *k = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, key.p, (Py_ssize_t)key.n);
                    int bad = !val || !k || PyDict_SetItem(out, k, val) < 0;
                    Py_XDECREF(val);
                    Py_XDECREF(k);
                    if (bad) goto fail;
                } else if (jskip(&j, 0) < 0) {
                    goto fail;
                }
                jws(&j);
                if (j.p < j.end && *j.p == ',') j.p++;
            }
            break;
        }
        if (jskip(&j, 0) < 0) goto fail;
        jws(&j);
        if (j.p < j.end && *j.p == ',') { j.p++; continue; }
        if (j.p < j.end && *j.p == '}') break;
        j.err = "',' expected";
        goto fail;
    }
    PyMem_RawFree(key.p);
    PyBuffer_Release(&view);
    return out;
fail:
    PyMem_RawFree(key.p);
    PyBuffer_Release(&view);
    Py_XDECREF(out);
    if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "vocabulary document: %s", j.err ? j.err : "out of memory");
    return NULL;
}

/* ---------------------------------------------------------------------------------------------- */
/* building the vocabulary */

typedef struct { Buf chars; size_t *off; size_t n, cap; } Strings;

static int strings_add(Strings *st, const uint32_t *s, size_t n, int reverse) {
    if (st->n + 1 >= st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 1024;
        size_t *off = PyMem_RawRealloc(st->off, (cap + 1) * sizeof(size_t));
        if (!off) return -1;
        st->off = off;
        st->cap = cap;
        if (st->n == 0) st->off[0] = 0;
    }
    if (buf_reserve(&st->chars, n) < 0) return -1;
    for (size_t k = 0; k < n; k++) st->chars.p[st->chars.n + k] = reverse ? s[n - 1 - k] : s[k];
    st->chars.n += n;
    st->off[++st->n] = st->chars.n;
    return 0;
}

static const Strings *g_sort_strings;

static int cmp_str(const void *a, const void *b) {
    const Strings *st = g_sort_strings;
    size_t i = *(const size_t *)a, k = *(const size_t *)b;
    const uint32_t *x = st->chars.p + st->off[i], *y = st->chars.p + st->off[k];
    size_t nx = st->off[i + 1] - st->off[i], ny = st->off[k + 1] - st->off[k];
    size_t n = nx < ny ? nx : ny;
    for (size_t q = 0; q < n; q++)
        if (x[q] != y[q]) return x[q] < y[q] ? -1 : 1;
    return nx < ny ? -1 : nx > ny;
}

typedef struct { PyObject_HEAD Vocab v; } VocabObject;

static void vocab_free(Vocab *v) {
    PyMem_RawFree(v->base);
    PyMem_RawFree(v->check);
    if (v->code_tab) {
        for (int b = 0; b < N_BLOCKS; b++) PyMem_RawFree(v->code_tab[b]);
        PyMem_RawFree(v->code_tab);
    }
    PyMem_RawFree(v->bytekeys);
    memset(v, 0, sizeof *v);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_by_freq(const void *a, const void *b) {  /* (count << 32 | codepoint), most frequent first */
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x > y ? -1 : x < y;
}

static size_t find_free(uint32_t *nf, size_t i) {
    size_t r = i;
    while (nf[r] != r) r = nf[r];
    while (nf[i] != r) {  /* path compression */
        size_t next = nf[i];
        nf[i] = (uint32_t)r;
        i = next;
    }
    return r;
}

/* lay the breadth-first trie (children of node u: first[u] .. first[u] + count[u], sorted by
 * codepoint) out as a double array */
static int build_da(Vocab *v, const uint32_t *label, const uint32_t *first, const uint32_t *count,
                    const uint8_t *term, uint32_t nodes) {
    uint32_t *labels = PyMem_RawMalloc((nodes + 1) * sizeof(uint32_t));
    uint64_t *freq = PyMem_RawMalloc((nodes + 1) * sizeof(uint64_t));
    uint32_t *pos = PyMem_RawMalloc((nodes + 1) * sizeof(uint32_t));
    uint32_t *ccodes = NULL, *nf = NULL;
    v->code_tab = PyMem_RawCalloc(N_BLOCKS, sizeof(uint32_t *));
    if (!labels || !freq || !pos || !v->code_tab) goto oom;
    uint32_t nl = 0;
    for (uint32_t u = 1; u < nodes; u++) labels[nl++] = label[u];
    qsort(labels, nl, sizeof(uint32_t), cmp_u32);
    uint32_t nd = 0;
    for (uint32_t k = 0; k < nl;) {
        uint32_t q = k;
        while (q < nl && labels[q] == labels[k]) q++;
        freq[nd++] = (uint64_t)(q - k) << 32 | labels[k];
        k = q;
    }
    qsort(freq, nd, sizeof(uint64_t), cmp_by_freq);
    for (uint32_t k = 0; k < nd; k++) {
        uint32_t cp = (uint32_t)(freq[k] & 0xFFFFFFFFu);
        if (!v->code_tab[cp >> 8] && !(v->code_tab[cp >> 8] = PyMem_RawCalloc(256, sizeof(uint32_t)))) goto oom;
        v->code_tab[cp >> 8][cp & 255] = k + 1;
    }
    uint32_t maxcode = nd;
    size_t cap = (size_t)nodes * 2 + maxcode + 16;
    v->base = PyMem_RawCalloc(cap, sizeof(uint32_t));
    v->check = PyMem_RawCalloc(cap, sizeof(uint32_t));
    ccodes = PyMem_RawMalloc((maxcode + 1) * sizeof(uint32_t));
    if (!v->base || !v->check || !ccodes) goto oom;
    /* nf: union-find "next free slot at or after i", so the search skips used slots in
     * amortised constant time */
    nf = PyMem_RawMalloc((cap + 1) * sizeof(uint32_t));
    if (!nf) goto oom;
    for (size_t i = 0; i <= cap; i++) nf[i] = (uint32_t)i;
    v->check[0] = UINT32_MAX;  /* the root's slot */
    nf[0] = 1;
    pos[0] = 0;
    for (uint32_t u = 0; u < nodes; u++) {
        uint32_t p = pos[u], n = count[u];
        if (!n) { v->base[p] = term[u] ? TERM : 0; continue; }
        uint32_t minc = UINT32_MAX;
        for (uint32_t k = 0; k < n; k++) {
            ccodes[k] = code_of(v, label[first[u] + k]);
            if (ccodes[k] < minc) minc = ccodes[k];
        }
        size_t b;
        for (size_t t = minc + 1;; t++) {
            t = find_free(nf, t);
            b = t - minc;
            if (b + maxcode + 1 >= cap) {  /* grow so every probe base + code stays inside */
                size_t ncap = 2 * cap + maxcode;
                uint32_t *nb = PyMem_RawRealloc(v->base, ncap * sizeof(uint32_t));
                if (!nb) goto oom;
                v->base = nb;
                uint32_t *nc = PyMem_RawRealloc(v->check, ncap * sizeof(uint32_t));
                if (!nc) goto oom;
                v->check = nc;
                uint32_t *nn = PyMem_RawRealloc(nf, (ncap + 1) * sizeof(uint32_t));
                if (!nn) goto oom;
                nf = nn;
                memset(v->base + cap, 0, (ncap - cap) * sizeof(uint32_t));
                memset(v->check + cap, 0, (ncap - cap) * sizeof(uint32_t));
                for (size_t i = cap + 1; i <= ncap; i++) nf[i] = (uint32_t)i;
                cap = ncap;
            }
            int ok = 1;
            for (uint32_t k = 0; k < n && ok; k++) ok = v->check[b + ccodes[k]] == 0;
            if (ok) break;
        }
        v->base[p] = (uint32_t)b | (term[u] ? TERM : 0);
        for (uint32_t k = 0; k < n; k++) {
            size_t t = b + ccodes[k];
            v->check[t] = p + 1;
            nf[t] = (uint32_t)(t + 1);
            pos[first[u] + k] = (uint32_t)t;
        }
    }
    v->size = (uint32_t)cap;
    v->nodes = nodes;
    PyMem_RawFree(labels);
    PyMem_RawFree(freq);
    PyMem_RawFree(pos);
    PyMem_RawFree(ccodes);
    PyMem_RawFree(nf);
    return 0;
oom:
    PyMem_RawFree(labels);
    PyMem_RawFree(freq);
    PyMem_RawFree(pos);
    PyMem_RawFree(ccodes);
    PyMem_RawFree(nf);
    return -2;
}

/* the reverse trie over `st` (already reversed), nodes numbered level by level in sorted order so
 * that every node's children are contiguous and sorted, then as a double array */
static int build_trie(Vocab *v, Strings *st) {
    size_t n = st->n, total = st->chars.n;
    size_t *order = PyMem_RawMalloc((n + 1) * sizeof(size_t));
    size_t *lcp = PyMem_RawMalloc((n + 1) * sizeof(size_t));
    uint32_t *cur = PyMem_RawMalloc((n + 1) * sizeof(uint32_t));
    size_t cap = total + 1;
    uint32_t *label = PyMem_RawCalloc(cap, sizeof(uint32_t));
    uint32_t *first = PyMem_RawCalloc(cap, sizeof(uint32_t));
    uint32_t *count = PyMem_RawCalloc(cap, sizeof(uint32_t));
    uint8_t *term = PyMem_RawCalloc(cap, 1);
    int rc = -1;
    if (!order || !lcp || !cur || !label || !first || !count || !term) { rc = -2; goto out; }
    for (size_t i = 0; i < n; i++) order[i] = i;
    g_sort_strings = st;
    qsort(order, n, sizeof(size_t), cmp_str);
    size_t maxlen = 0;
    for (size_t r = 0; r < n; r++) {
        size_t i = order[r], len = st->off[i + 1] - st->off[i];
        if (len > maxlen) maxlen = len;
        cur[r] = 0;
        lcp[r] = 0;
        if (r) {
            size_t k = order[r - 1], lk = st->off[k + 1] - st->off[k];
            const uint32_t *x = st->chars.p + st->off[i], *y = st->chars.p + st->off[k];
            size_t m = len < lk ? len : lk, q = 0;
            while (q < m && x[q] == y[q]) q++;
            lcp[r] = q;
        }
    }
    /* `active` holds the sorted ranks of the strings still as long as the level, so each level
     * visits only those (total work: the number of characters) */
    size_t *active = PyMem_RawMalloc((n + 1) * sizeof(size_t)), na = n;
    if (!active) { rc = -2; goto out; }
    for (size_t r = 0; r < n; r++) active[r] = r;
    uint32_t next = 1;
    for (size_t d = 1; d <= maxlen; d++) {
        size_t keep = 0;
        for (size_t a = 0; a < na; a++) {
            size_t r = active[a], i = order[r], len = st->off[i + 1] - st->off[i];
            if (len < d) continue;
            active[keep++] = r;
            if (r == 0 || lcp[r] < d) {
                uint32_t parent = cur[r], id = next++;
                label[id] = st->chars.p[st->off[i] + d - 1];
                if (count[parent] == 0) first[parent] = id;
                count[parent]++;
                cur[r] = id;
            } else {
                cur[r] = cur[r - 1];
            }
            if (len == d) term[cur[r]] = 1;
        }
        na = keep;
    }
    PyMem_RawFree(active);
    v->max_depth = (int)maxlen;
    rc = build_da(v, label, first, count, term, next);
out:
    PyMem_RawFree(order);
    PyMem_RawFree(lcp);
    PyMem_RawFree(cur);
    PyMem_RawFree(label);
    PyMem_RawFree(first);
    PyMem_RawFree(count);
    PyMem_RawFree(term);
    return rc;
}

static int add_bytekey(uint64_t **keys, Py_ssize_t *n, Py_ssize_t *cap, const unsigned char *b, int len) {
    if (*n == *cap) {
        Py_ssize_t c = *cap ? 2 * *cap : 256;
        uint64_t *k = PyMem_RawRealloc(*keys, (size_t)c * sizeof(uint64_t));
        if (!k) return -1;
        *keys = k;
        *cap = c;
    }
    uint64_t key = (uint64_t)len << 32;
    for (int i = 0; i < len; i++) key |= (uint64_t)b[i] << (8 * (3 - i));
    (*keys)[(*n)++] = key;
    return 0;
}

/* parse ctok's vocabulary document and build the native structures; runs without the GIL.
 * 0, or -1 with *err set (malformed document), or -2 (out of memory) */
static int vocab_load(Vocab *v, const unsigned char *data, Py_ssize_t len, const char **err) {
    int rc = -1;
    J j = {data, data + len, NULL};
    Buf key = {0}, parsed = {0};
    Strings st = {0};
    uint64_t *keys = NULL;
    Py_ssize_t nkeys = 0, capkeys = 0;
    int max_len = 0, found_tokens = 0;

    jws(&j);
    if (j.p >= j.end || *j.p != '{') { j.err = "object expected"; goto fail; }
    j.p++;
    for (;;) {
        jws(&j);
        if (j.p < j.end && *j.p == '}') break;
        key.n = 0;
        if (jstring(&j, &key) < 0) goto fail;
        jws(&j);
        if (j.p >= j.end || *j.p != ':') { j.err = "':' expected"; goto fail; }
        j.p++;
        jws(&j);
        int is_tokens = key.n == 6 && key.p[0] == 't' && key.p[1] == 'o' && key.p[2] == 'k' && key.p[3] == 'e' &&
                        key.p[4] == 'n' && key.p[5] == 's';
        if (is_tokens && j.p < j.end && *j.p == '{') {
            found_tokens = 1;
            j.p++;
            for (;;) {  /* groups */
                jws(&j);
                if (j.p < j.end && *j.p == '}') { j.p++; break; }
                Buf group = {0};
                if (jstring(&j, &group) < 0) { PyMem_RawFree(group.p); goto fail; }
                static const char bf[] = "bytes_fallback", ct[] = "contractions";
                int is_bytes = group.n == strlen(bf), is_contr = group.n == strlen(ct);
                for (size_t q = 0; q < group.n; q++) {
                    if (is_bytes && group.p[q] != (unsigned char)bf[q]) is_bytes = 0;
                    if (is_contr && group.p[q] != (unsigned char)ct[q]) is_contr = 0;
                }
                PyMem_RawFree(group.p);
                jws(&j);
                if (j.p >= j.end || *j.p != ':') { j.err = "':' expected"; goto fail; }
                j.p++;
                jws(&j);
                if (j.p >= j.end || *j.p != '{') { j.err = "group object expected"; goto fail; }
                j.p++;
                for (;;) {  /* pieces */
                    jws(&j);
                    if (j.p < j.end && *j.p == '}') { j.p++; break; }
                    key.n = 0;
                    if (jstring(&j, &key) < 0) goto fail;
                    if (is_bytes) {
                        if ((int)(key.n / 2) > max_len) max_len = (int)(key.n / 2);
                        int ok = key.n % 2 == 0 && key.n <= 8;
                        unsigned char b[4];
                        for (size_t q = 0; ok && q < key.n; q++) {
                            uint32_t c = key.p[q];
                            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                        }
                        for (size_t q = 0; ok && q < key.n / 2; q++)
                            b[q] = (unsigned char)(hexval((int)key.p[2 * q]) << 4 | hexval((int)key.p[2 * q + 1]));
                        if (ok && key.n && add_bytekey(&keys, &nkeys, &capkeys, b, (int)(key.n / 2)) < 0) goto oom;
                    } else {
                        parsed.n = 0;
                        if (parse_marked(key.p, key.n, &parsed) < 0) {
                            if (!parsed.oom) j.err = "a piece is not valid UTF-8";
                            goto fail;
                        }
                        if (strings_add(&st, parsed.p, parsed.n, 1) < 0) goto oom;
                        if (parsed.n == 1 && !is_marker_glyph(parsed.p[0])) {
                            unsigned char b[4];
                            int len = utf8(parsed.p[0], b);
                            if (len > max_len) max_len = len;
                            if (add_bytekey(&keys, &nkeys, &capkeys, b, len) < 0) goto oom;
                        }
                        if (is_contr) {  /* engine.glued_contraction: the raw key + ⟨eow⟩ */
                            put(&key, EOW_G);
                            if (key.oom || strings_add(&st, key.p, key.n, 1) < 0) goto oom;
                        }
                    }
                    jws(&j);
                    if (j.p >= j.end || *j.p != ':') { j.err = "':' expected"; goto fail; }
                    j.p++;
                    if (jskip(&j, 0) < 0) goto fail;
                    jws(&j);
                    if (j.p < j.end && *j.p == ',') j.p++;
                }
                jws(&j);
                if (j.p < j.end && *j.p == ',') j.p++;
            }
        } else if (jskip(&j, 0) < 0) {
            goto fail;
        }
        jws(&j);
        if (j.p < j.end && *j.p == ',') { j.p++; continue; }
        if (j.p < j.end && *j.p == '}') break;
        j.err = "',' expected";
        goto fail;
    }
    if (!found_tokens || st.n == 0) { j.err = "no tokens"; goto fail; }
    qsort(keys, (size_t)nkeys, sizeof(uint64_t), cmp_u64);
    v->bytekeys = keys;
    v->nbytekeys = nkeys;
    v->byte_max_len = max_len ? max_len : 1;
    keys = NULL;
    if ((rc = build_trie(v, &st)) < 0) goto error;
    PyMem_RawFree(key.p);
    PyMem_RawFree(parsed.p);
    PyMem_RawFree(st.chars.p);
    PyMem_RawFree(st.off);
    return 0;
oom:
    rc = -2;
    goto error;
fail:
    rc = -1;
    *err = j.err ? j.err : "malformed";
error:
    PyMem_RawFree(keys);
    PyMem_RawFree(key.p);
    PyMem_RawFree(parsed.p);
    PyMem_RawFree(st.chars.p);
    PyMem_RawFree(st.off);
    vocab_free(v);
    return rc;
}

static int vocab_init(VocabObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"data", "allcaps_min", "frame_bow", "fold_quotes", NULL};
    Py_buffer view;
    int allcaps_min, frame_bow, fold_quotes;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*ipp", kwlist, &view, &allcaps_min, &frame_bow, &fold_quotes))
        return -1;
    vocab_free(&self->v);
    Vocab *v = &self->v;
    v->allcaps_min = allcaps_min;
    v->frame_bow = frame_bow;
    v->fold_quotes = fold_quotes;
    const char *err = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vocab_load(v, view.buf, view.len, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc == -2) PyErr_NoMemory();
    else if (rc < 0) PyErr_Format(PyExc_ValueError, "vocabulary document: %s", err);
    return rc < 0 ? -1 : 0;
}

static void vocab_dealloc(VocabObject *self) {
    vocab_free(&self->v);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* the text as ctok's nfc() leaves it, marker literals already escaped; NULL on error */
static uint32_t *prepare(PyObject *text, int fold_quotes, size_t *n_out) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *src = Py_NewRef(text);
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) {
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t i = 0;
        for (; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c >= 0xD800 && c <= 0xDFFF) break;
        }
        if (i < n) {  /* SURROGATE.sub("\ufffd", text) */
            Py_UCS4 *copy = PyUnicode_AsUCS4Copy(text);
            if (!copy) { Py_DECREF(src); return NULL; }
            for (; i < n; i++)
                if (copy[i] >= 0xD800 && copy[i] <= 0xDFFF) copy[i] = 0xFFFD;
            Py_SETREF(src, PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, copy, n));
            PyMem_Free(copy);
            if (!src) return NULL;
        }
    }
    PyObject *norm = PyObject_CallFunction(g_normalize, "sO", "NFC", src);
    Py_DECREF(src);
    if (!norm) return NULL;
    Py_ssize_t m = PyUnicode_GET_LENGTH(norm);
    int kind = PyUnicode_KIND(norm);
    const void *data = PyUnicode_DATA(norm);
    uint32_t *a = PyMem_RawMalloc(((size_t)m + 1) * sizeof(uint32_t));
    if (!a) { Py_DECREF(norm); PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < m; i++) a[i] = PyUnicode_READ(kind, data, i);
    Py_DECREF(norm);
    Buf o = {0};
    if (buf_reserve(&o, (size_t)m + 1) < 0) { PyMem_RawFree(a); PyErr_NoMemory(); return NULL; }
    nfc_post(a, (size_t)m, fold_quotes, &o);
    PyMem_RawFree(a);
    if (o.oom) { PyMem_RawFree(o.p); PyErr_NoMemory(); return NULL; }
    for (size_t i = 0; i < o.n; i++)  /* LITERAL_MARKER_ESCAPE_TABLE */
        if (o.p[i] >= 0xFDD0 && o.p[i] <= 0xFDD4) o.p[i] = 0xE000 + (o.p[i] - 0xFDD0);
    if (ensure_props(o.p, (Py_ssize_t)o.n) < 0) { PyMem_RawFree(o.p); return NULL; }
    *n_out = o.n;
    return o.p;
}

/* content tokens of escaped, normalised text (ctok tile()'s cost); -1 when out of memory */
static long long count_prepared(const Vocab *v, uint32_t *s, size_t n, int raw_head_space) {
    Buf st = {0};
    long long result = -1;
    size_t n_tail = 0;
    while (n_tail < n && s[n - 1 - n_tail] == '\n') n_tail++;
    long long tail = frame_tail(v, n_tail);
    if (tail < 0) goto done;
    if (buf_reserve(&st, n + n / 2 + 16) < 0) goto done;
    if (stream_norm(v, s, n, raw_head_space, &st) < 0) goto done;
    size_t m = seam(st.p, st.n);
    if (m == 0) { result = tail; goto done; }
    long long total = tile_cost(v, st.p, m, 0);
    if (total >= 0) result = total + tail;
done:
    PyMem_RawFree(st.p);
    return result;
}

static PyObject *vocab_count(VocabObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "text must be str, not %s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    if (!self->v.nodes) { PyErr_SetString(PyExc_ValueError, "vocabulary not loaded"); return NULL; }
    int head = PyUnicode_GET_LENGTH(text) > 0 && PyUnicode_READ_CHAR(text, 0) == ' ';
    size_t n;
    uint32_t *s = prepare(text, self->v.fold_quotes, &n);
    if (!s) return NULL;
    long long c;
    Py_BEGIN_ALLOW_THREADS
    c = count_prepared(&self->v, s, n, head);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(s);
    if (c < 0) return PyErr_NoMemory();
    return PyLong_FromLongLong(c);
}

/* the marked stream (after the seam law), for tests that compare it with ctok's */
static PyObject *vocab_stream(VocabObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "text must be str"); return NULL; }
    int head = PyUnicode_GET_LENGTH(text) > 0 && PyUnicode_READ_CHAR(text, 0) == ' ';
    size_t n;
    uint32_t *s = prepare(text, self->v.fold_quotes, &n);
    if (!s) return NULL;
    Buf st = {0};
    int r = stream_norm(&self->v, s, n, head, &st);
    PyMem_RawFree(s);
    if (r < 0) { PyMem_RawFree(st.p); return PyErr_NoMemory(); }
    size_t m = seam(st.p, st.n);
    PyObject *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, st.p ? st.p : (uint32_t *)"", (Py_ssize_t)m);
    PyMem_RawFree(st.p);
    return out;
}

static PyObject *vocab_nodes(VocabObject *self, void *closure) { return PyLong_FromUnsignedLong(self->v.nodes); }

static PyObject *vocab_nbytes(VocabObject *self, void *closure) {
    size_t b = (size_t)self->v.size * 8 + (size_t)self->v.nbytekeys * 8 + N_BLOCKS * sizeof(void *);
    if (self->v.code_tab)
        for (int k = 0; k < N_BLOCKS; k++) b += self->v.code_tab[k] ? 256 * sizeof(uint32_t) : 0;
    return PyLong_FromSize_t(b);
}

static PyMethodDef vocab_methods[] = {
    {"count", (PyCFunction)vocab_count, METH_O, "Content tokens of text (ctok's token_count less the frame)."},
    {"stream", (PyCFunction)vocab_stream, METH_O, "The marked stream the tiler tiles (internal glyph form)."},
    {NULL},
};

static PyGetSetDef vocab_getset[] = {
    {"nodes", (getter)vocab_nodes, NULL, "trie nodes", NULL},
    {"nbytes", (getter)vocab_nbytes, NULL, "bytes held by the native structures", NULL},
    {NULL},
};

static PyTypeObject VocabType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "promptls.counting._native.Vocab",
    .tp_basicsize = sizeof(VocabObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One tokenizer family's vocabulary: Vocab(document_bytes, allcaps_min, frame_bow, fold_quotes).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)vocab_init,
    .tp_dealloc = (destructor)vocab_dealloc,
    .tp_methods = vocab_methods,
    .tp_getset = vocab_getset,
};

static PyObject *set_props(PyObject *self, PyObject *fn) {
    if (!PyCallable_Check(fn)) { PyErr_SetString(PyExc_TypeError, "callable expected"); return NULL; }
    Py_XSETREF(g_props_fn, Py_NewRef(fn));
    Py_RETURN_NONE;
}

static PyObject *py_parse_marked(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) { PyErr_SetString(PyExc_TypeError, "str expected"); return NULL; }
    Py_UCS4 *s = PyUnicode_AsUCS4Copy(text);
    if (!s) return NULL;
    Buf o = {0};
    int r = parse_marked(s, (size_t)PyUnicode_GET_LENGTH(text), &o);
    PyMem_Free(s);
    if (r < 0) {
        PyMem_RawFree(o.p);
        if (o.oom) return PyErr_NoMemory();
        PyErr_SetString(PyExc_ValueError, "invalid UTF-8 in byte atoms");
        return NULL;
    }
    PyObject *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, o.p ? o.p : (uint32_t *)"", (Py_ssize_t)o.n);
    PyMem_RawFree(o.p);
    return out;
}

static PyMethodDef module_methods[] = {
    {"set_props", set_props, METH_O, "Install the per-block property function (ctok's predicates)."},
    {"read_meta", read_meta, METH_O, "The scalar members of a vocabulary document's meta object."},
    {"parse_marked", py_parse_marked, METH_O, "ctok's parse_marked, natively (for tests)."},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "promptls.counting._native",
    "Count-only native port of ctok's tokenizer (see _native.c).", -1, module_methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&VocabType) < 0) return NULL;
    PyObject *ud = PyImport_ImportModule("unicodedata");
    if (!ud) return NULL;
    g_normalize = PyObject_GetAttrString(ud, "normalize");
    Py_DECREF(ud);
    if (!g_normalize) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "Vocab", (PyObject *)&VocabType) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
