#!/usr/bin/env python3
"""Reference outputs of a Hugging Face BertModel for XmcEngine's parity test.

Needs Python 3 with torch, transformers and safetensors. Writes into --out:
  config.json, model.safetensors, vocab.txt   a small random-init BERT checkpoint (BertModel names)
  parity.safetensors                          the fixed batch and what transformers computes on it:
      input_ids, attention_mask, token_type_ids   [B, T] int64
      last_hidden_state [B, T, d], pooler_output [B, d]   float32, eval mode (no dropout)
      probe_hidden [B, T, d], probe_pooled [B, d]         fixed weights of the scalar
          f = sum(last_hidden_state * probe_hidden) + sum(pooler_output * probe_pooled)
      grad.<parameter name>                               df/dparameter for every parameter
Then, on the .NET side:
  XMC_HF_PARITY_DIR=<out> Tests/bin/Debug/net10.0/Xmc.Tests -class 'Xmc.Tests.Models.HfParityTests'
"""
import argparse
import os

import torch
import transformers
from safetensors.torch import save_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="directory to write (created if missing)")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)

    config = transformers.BertConfig(
        vocab_size=120, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
        max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        # Larger than BERT's 0.02 so attention is far from uniform and every term of the layer shows.
        initializer_range=0.1)
    model = transformers.BertModel(config, add_pooling_layer=True)
    with torch.no_grad():
        # Random-init biases are 0 and LayerNorms the identity; move them so their loading is checked too.
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.1)
            elif "LayerNorm.weight" in name:
                p.normal_(1.0, 0.1)
    model.eval()
    model.save_pretrained(args.out, safe_serialization=True)

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with open(os.path.join(args.out, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        for token in special + [f"tok{i}" for i in range(config.vocab_size - len(special))]:
            f.write(token + "\n")

    # Three rows of different lengths: [CLS] tokens [SEP] then [PAD]; row 0 has a second segment.
    batch, length = 3, 12
    lengths = [12, 7, 3]
    gen = torch.Generator().manual_seed(args.seed + 1)
    input_ids = torch.zeros(batch, length, dtype=torch.int64)
    attention_mask = torch.zeros(batch, length, dtype=torch.int64)
    token_type_ids = torch.zeros(batch, length, dtype=torch.int64)
    for b, n in enumerate(lengths):
        input_ids[b, :n] = torch.randint(len(special), config.vocab_size, (n,), generator=gen)
        input_ids[b, 0] = 2
        input_ids[b, n - 1] = 3
        attention_mask[b, :n] = 1
    token_type_ids[0, 6:] = 1

    out = model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
    hidden, pooled = out.last_hidden_state, out.pooler_output
    probe_hidden = torch.randn(hidden.shape, generator=gen)
    probe_pooled = torch.randn(pooled.shape, generator=gen)
    ((hidden * probe_hidden).sum() + (pooled * probe_pooled).sum()).backward()

    tensors = {
        "input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
        "last_hidden_state": hidden.detach(), "pooler_output": pooled.detach(),
        "probe_hidden": probe_hidden, "probe_pooled": probe_pooled,
    }
    for name, p in model.named_parameters():
        tensors["grad." + name] = p.grad.detach()
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(args.out, "parity.safetensors"),
              metadata={"transformers": transformers.__version__, "torch": torch.__version__})
    print(f"wrote {args.out}: transformers {transformers.__version__}, torch {torch.__version__}, "
          f"{sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    main()
