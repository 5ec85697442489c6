#!/usr/bin/env python3
"""PyTorch peer of the gpu-gemm and gpu-ops bench suites.

Reads a JSON request on stdin and times the same work with PyTorch on the same GPU, by CUDA events:

  {"kind": "gemm", "repetitions": 5,
   "cases": [{"name": "...", "batch": 1, "m": 4096, "k": 768, "n": 768, "trans_a": false, "trans_b": true,
              "math": "fp32" | "tf32" | "bf16", "inner": 20}]}
  {"kind": "ops", "repetitions": 5,
   "cases": [{"name": "...", "op": "softmax_fwd", "rows": 32768, "cols": 768, "inner": 4}]}

(Bench's gpu-gemm and gpu-ops suites write these requests, with the calls per timing they used themselves.)
GEMMs: row-major C[batch, m, n] = op(A)·op(B), float32 tensors; batch > 1 is a batched matmul. The math modes map to
torch's float32 matmul precision: fp32 -> "highest", tf32 -> "high", bf16 -> "medium" (TF32 / bfloat16 inner
products allowed, float32 accumulation), the engine's cuBLAS compute types 32F, 32F_FAST_TF32, 32F_FAST_16BF.
ops: softmax_fwd, softmax_bwd, layernorm_fwd, layernorm_bwd, gelu_fwd, gelu_bwd, add, f32_to_bf16, bf16_to_f32,
over a float32 [rows, cols] matrix (softmax and LayerNorm along rows, GELU in its erf form, as the engine).

Prints one JSON object: {"torch": version, "cuda": version, "gpu": name,
"seconds": {case name: best seconds per call}, "errors": {case name: message}}.
Each timing: one warm-up call, then `repetitions` times `inner` calls between two events; best per call.
"""
import json
import sys

import torch
import torch.nn.functional as F

PRECISION = {"fp32": "highest", "tf32": "high", "bf16": "medium"}


def best_seconds(fn, inner, repetitions):
    fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    best = float("inf")
    for _ in range(repetitions):
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end) / 1000.0 / inner)
    return best


def gemm_call(case):
    batch, m, k, n = int(case.get("batch", 1)), case["m"], case["k"], case["n"]
    lead = (batch,) if batch > 1 else ()
    # A transposed operand is stored transposed and passed as a transposed view, as the engine's caller does.
    a = torch.randn(*lead, k, m, device="cuda").transpose(-1, -2) if case["trans_a"] else torch.randn(*lead, m, k, device="cuda")
    b = torch.randn(*lead, n, k, device="cuda").transpose(-1, -2) if case["trans_b"] else torch.randn(*lead, k, n, device="cuda")
    c = torch.empty(*lead, m, n, device="cuda")
    torch.set_float32_matmul_precision(PRECISION[case["math"]])
    return lambda: torch.matmul(a, b, out=c)


def ops_call(case):
    rows, cols, op = case["rows"], case["cols"], case["op"]
    x = torch.empty(rows, cols, device="cuda").uniform_(-4, 4)
    g = torch.empty(rows, cols, device="cuda").uniform_(-1, 1)
    if op == "softmax_fwd":
        return lambda: torch.softmax(x, dim=-1)
    if op == "softmax_bwd":
        y = torch.softmax(x, dim=-1)
        return lambda: torch.ops.aten._softmax_backward_data(g, y, -1, torch.float32)
    gamma = torch.empty(cols, device="cuda").uniform_(0.5, 2)
    beta = torch.empty(cols, device="cuda").uniform_(-1, 1)
    if op == "layernorm_fwd":
        return lambda: F.layer_norm(x, (cols,), gamma, beta, 1e-5)
    if op == "layernorm_bwd":
        _, mean, rstd = torch.ops.aten.native_layer_norm(x, [cols], gamma, beta, 1e-5)
        return lambda: torch.ops.aten.native_layer_norm_backward(g, x, [cols], mean, rstd, gamma, beta, [True, True, True])
    if op == "gelu_fwd":
        return lambda: F.gelu(x)
    if op == "gelu_bwd":
        return lambda: torch.ops.aten.gelu_backward(g, x)
    if op == "add":
        y = torch.empty(rows, cols, device="cuda")
        return lambda: torch.add(x, g, out=y)
    if op == "f32_to_bf16":
        half = torch.empty(rows, cols, device="cuda", dtype=torch.bfloat16)
        return lambda: half.copy_(x)
    if op == "bf16_to_f32":
        half = x.to(torch.bfloat16)
        y = torch.empty(rows, cols, device="cuda")
        return lambda: y.copy_(half)
    raise ValueError(f"unknown op {op}")


def main():
    request = json.load(sys.stdin)
    if not torch.cuda.is_available():
        raise SystemExit("torch sees no CUDA device")
    make = {"gemm": gemm_call, "ops": ops_call}[request["kind"]]
    repetitions = int(request.get("repetitions", 5))
    seconds, errors = {}, {}
    for case in request["cases"]:
        try:
            seconds[case["name"]] = best_seconds(make(case), int(case.get("inner", 1)), repetitions)
        except Exception as e:  # one case failing must not lose the others
            errors[case["name"]] = f"{type(e).__name__}: {e}"
        torch.cuda.empty_cache()
    json.dump({"torch": torch.__version__, "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0),
               "seconds": seconds, "errors": errors}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
