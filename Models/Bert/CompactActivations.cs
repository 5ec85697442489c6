using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Models.Bert;

/// <summary>The encoder ops that store what their backward reads in bfloat16 (<see cref="BertConfig.ActivationStorage"/>).
/// Only where a rounding of 2⁻⁹ relative cannot compound: the input of a linear layer, which the backward reads
/// only for the weight gradient (the input gradient uses the fp32 weight, so it is exact), and the GELU input,
/// whose derivative is smooth. Attention's q, k, v and probabilities stay fp32: they feed every input gradient
/// through the softmax. Forward results are bit-identical to the fp32 path.</summary>
internal static class CompactActivations
{
    /// <summary>The bfloat16 copy of <paramref name="x"/> that linear layers reading it save, or null when nothing
    /// will be recorded (then the plain ops run).</summary>
    public static Tensor? Store(Tensor x) => Autograd.IsEnabled ? Ops.ToBFloat16(x) : null;

    /// <summary><paramref name="layer"/> applied to <paramref name="x"/>, keeping <paramref name="stored"/> (the
    /// bf16 copy of x from <see cref="Store"/>, shared by layers that read the same x) instead of x.</summary>
    public static Tensor Linear(Linear layer, Tensor x, Tensor? stored)
    {
        var w = layer.Weight.Data;
        var b = layer.Bias?.Data;
        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        if (stored is null || !Autograd.NeedsRecording(inputs))
        {
            return layer.Forward(x);
        }
        Tensor y;
        using (Autograd.NoGrad())
        {
            // Linear.Forward's arithmetic, with the product before the bias freed at once: nothing saves it
            y = Ops.MatMul(x, w, transB: true);
            if (b is not null)
            {
                using var product = y;
                y = Ops.Add(product, b);
            }
        }
        int rows = checked((int)x.Shape.Rows), inFeatures = layer.InFeatures, outFeatures = layer.OutFeatures;
        Autograd.Record(y, "linear_bf16_saved", inputs, [stored, w], (g, node) =>
        {
            var grads = new Tensor?[inputs.Length];
            if (node.NeedsGrad(0))
            {
                grads[0] = Ops.MatMul(g, node.Saved(1));
            }
            if (node.NeedsGrad(1))
            {
                using var wide = Ops.ToFloat32(node.Saved(0));
                using var x2 = Ops.Reshape(wide, rows, inFeatures);
                using var g2 = Ops.Reshape(g, rows, outFeatures);
                grads[1] = Ops.MatMul(g2, x2, transA: true);
            }
            if (inputs.Length == 3 && node.NeedsGrad(2))
            {
                grads[2] = Ops.SumRows(g);
            }
            return grads;
        });
        return y;
    }

    /// <summary>GELU (erf form when <paramref name="exact"/>, else the tanh form) keeping its input in bf16.</summary>
    public static Tensor Gelu(Tensor x, bool exact)
    {
        if (!Autograd.NeedsRecording(x))
        {
            return exact ? Ops.Gelu(x) : Ops.GeluTanh(x);
        }
        Tensor y;
        using (Autograd.NoGrad())
        {
            y = exact ? Ops.Gelu(x) : Ops.GeluTanh(x);
        }
        var kind = exact ? UnaryOp.GeluErf : UnaryOp.GeluTanh;
        using var stored = Ops.ToBFloat16(x);
        Autograd.Record(y, exact ? "gelu_bf16_saved" : "gelu_tanh_bf16_saved", [x], [stored], (g, node) =>
        {
            using var wide = Ops.ToFloat32(node.Saved(0));
            var gx = Tensor.Empty(g.Shape, DType.Float32, g.Device);
            g.Backend.UnaryBackward(kind, wide.Address, g.Address, gx.Address, g.Numel);
            return [gx];
        });
        return y;
    }
}
