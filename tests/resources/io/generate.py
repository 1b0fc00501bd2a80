"""Generates the small torch.save files under tests/resources/io/ (run once; the tests never call Python).

    /usr/bin/python3 tests/resources/io/generate.py      # Debian's torch 1.13

Every value is a simple formula so the Java tests can state the expected numbers without Python.
"""
import argparse
import collections
import os

import torch

OUT = os.path.dirname(os.path.abspath(__file__))


def save(obj, name, **kw):
    path = os.path.join(OUT, name)
    torch.save(obj, path, **kw)
    print(name, os.path.getsize(path), "bytes")


def dtypes():
    base = torch.arange(6, dtype=torch.float64).reshape(2, 3) * 0.5 - 1.0  # -1.0 .. 1.5, exact in every float type
    save(collections.OrderedDict([
        ("f32", base.float()),
        ("f64", base.clone()),
        ("f16", base.half()),
        ("bf16", base.bfloat16()),
        ("i64", torch.tensor([-3, 2 ** 40, 7], dtype=torch.int64)),
        ("i32", torch.tensor([-5, 6], dtype=torch.int32)),
        ("i16", torch.tensor([-300, 301], dtype=torch.int16)),
        ("i8", torch.tensor([-7, 8], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(3.5)),
        ("empty", torch.zeros(0, 3)),
    ]), "dtypes.pt")


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)  # value = 6 * row + col
    save({
        "tensors": collections.OrderedDict([
            ("base", base),
            ("transposed", base.t()),        # strides (1, 6)
            ("row2", base[2]),              # offset 12
            ("col1", base[:, 1]),           # offset 1, stride 6
            ("block", base[1:3, 2:5]),      # offset 8, strides (6, 1)
        ]),
        "meta": {"epoch": 3, "lr": 1e-4, "name": "views", "flags": [True, None], "pair": (1, -2), "big": 2 ** 70},
    }, "views.pt")


def tiny_linear_state():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3))  # w[i][j] = 3i + j
        lin.bias.copy_(torch.tensor([0.5, -0.5]))
    return lin.state_dict()


def wrappers():
    sd = tiny_linear_state()
    save({"module": sd, "buffer_names": [], "optimizer": None, "lr_scheduler": None, "csr_tensor_module_names": set(),
          "skipped_steps": 0, "global_steps": 10, "global_samples": 40, "dp_world_size": 1, "mp_world_size": 1,
          "ds_version": "0.9.0"}, "deepspeed_module.pt")
    save({"state_dict": sd, "epoch": 2}, "state_dict_wrapper.pt")
    save(sd, "bare_state_dict.pt")
    save({"w": torch.nn.Parameter(torch.tensor([1.0, 2.0]))}, "parameter.pt")
    save({"model": sd, "args": argparse.Namespace(lr=0.1)}, "with_namespace.pt")
    save(sd, "legacy_format.pt", _use_new_zipfile_serialization=False)


def bert_tiny():
    """A Hugging Face BertForPreTraining-style pytorch_model.bin (old gamma/beta LayerNorm names, tied decoder)."""
    hidden, inter, vocab, max_pos, layers = 8, 16, 20, 16, 4
    g = torch.Generator().manual_seed(7)
    sd = collections.OrderedDict()

    def rnd(*shape):
        return torch.randn(*shape, generator=g)

    def ln(prefix):
        sd[prefix + ".gamma"] = 1.0 + 0.1 * rnd(hidden)
        sd[prefix + ".beta"] = 0.1 * rnd(hidden)

    def lin(prefix, out_f, in_f):
        sd[prefix + ".weight"] = rnd(out_f, in_f)
        sd[prefix + ".bias"] = rnd(out_f)

    sd["bert.embeddings.word_embeddings.weight"] = rnd(vocab, hidden)
    sd["bert.embeddings.position_embeddings.weight"] = rnd(max_pos, hidden)
    sd["bert.embeddings.token_type_embeddings.weight"] = rnd(2, hidden)
    ln("bert.embeddings.LayerNorm")
    for i in range(layers):
        p = "bert.encoder.layer.%d." % i
        for n in ("query", "key", "value"):
            lin(p + "attention.self." + n, hidden, hidden)
        lin(p + "attention.output.dense", hidden, hidden)
        ln(p + "attention.output.LayerNorm")
        lin(p + "intermediate.dense", inter, hidden)
        lin(p + "output.dense", hidden, inter)
        ln(p + "output.LayerNorm")
    lin("bert.pooler.dense", hidden, hidden)
    sd["cls.predictions.bias"] = rnd(vocab)
    lin("cls.predictions.transform.dense", hidden, hidden)
    ln("cls.predictions.transform.LayerNorm")
    sd["cls.predictions.decoder.weight"] = sd["bert.embeddings.word_embeddings.weight"]  # tied: one storage
    lin("cls.seq_relationship", 2, hidden)
    save(sd, "bert_tiny.bin")
    # the real bert-base-uncased pytorch_model.bin predates PyTorch 1.6: the legacy (non-zip) format
    save(sd, "bert_tiny_legacy.bin", _use_new_zipfile_serialization=False)


def clip_tiny():
    """An OpenAI CLIP-style state dict in float16 (as released): ViT width 8, patch 4, 16 px (4x4 grid), 2 layers."""
    width, patch, grid, layers, embed, t_width, ctx, vocab = 8, 4, 4, 2, 6, 8, 5, 11
    g = torch.Generator().manual_seed(11)
    sd = collections.OrderedDict()

    def rnd(*shape):
        return torch.randn(*shape, generator=g).half()

    def block(prefix, w):
        sd[prefix + "attn.in_proj_weight"] = rnd(3 * w, w)
        sd[prefix + "attn.in_proj_bias"] = rnd(3 * w)
        sd[prefix + "attn.out_proj.weight"] = rnd(w, w)
        sd[prefix + "attn.out_proj.bias"] = rnd(w)
        sd[prefix + "ln_1.weight"] = rnd(w)
        sd[prefix + "ln_1.bias"] = rnd(w)
        sd[prefix + "mlp.c_fc.weight"] = rnd(4 * w, w)
        sd[prefix + "mlp.c_fc.bias"] = rnd(4 * w)
        sd[prefix + "mlp.c_proj.weight"] = rnd(w, 4 * w)
        sd[prefix + "mlp.c_proj.bias"] = rnd(w)
        sd[prefix + "ln_2.weight"] = rnd(w)
        sd[prefix + "ln_2.bias"] = rnd(w)

    sd["positional_embedding"] = rnd(ctx, t_width)
    sd["text_projection"] = rnd(t_width, embed)
    sd["logit_scale"] = torch.tensor(4.6052)
    sd["visual.class_embedding"] = rnd(width)
    # position table with a known grid: row 1 + (r * grid + c) holds r + 10 * c in every feature
    table = torch.zeros(1 + grid * grid, width)
    table[0] = -1.0
    for r in range(grid):
        for c in range(grid):
            table[1 + r * grid + c] = r + 10 * c
    sd["visual.positional_embedding"] = table.half()
    sd["visual.proj"] = rnd(width, embed)
    sd["visual.conv1.weight"] = rnd(width, 3, patch, patch)
    sd["visual.ln_pre.weight"] = rnd(width)
    sd["visual.ln_pre.bias"] = rnd(width)
    for i in range(layers):
        block("visual.transformer.resblocks.%d." % i, width)
    sd["visual.ln_post.weight"] = rnd(width)
    sd["visual.ln_post.bias"] = rnd(width)
    sd["token_embedding.weight"] = rnd(vocab, t_width)
    for i in range(1):
        block("transformer.resblocks.%d." % i, t_width)
    sd["ln_final.weight"] = rnd(t_width)
    sd["ln_final.bias"] = rnd(t_width)
    # what the JIT archive adds (the official build_model deletes them)
    sd["input_resolution"] = torch.tensor(16)
    sd["context_length"] = torch.tensor(ctx)
    sd["vocab_size"] = torch.tensor(vocab)
    save(sd, "clip_tiny_fp16.pt")


if __name__ == "__main__":
    dtypes()
    views()
    wrappers()
    bert_tiny()
    clip_tiny()
