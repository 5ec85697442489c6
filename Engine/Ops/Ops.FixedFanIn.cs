using Xmc.Engine.Backends;
using Xmc.Engine.Memory;

namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>The fixed fan-in sparse layer: y[..., l] = Σ_j values[l,j]·x[..., indices[l,j]] + bias[l].
    /// x is Float32 [..., d]; values [L,k] Float32, BFloat16 or Float8E4M3 (computed in float32; the gradient is Float32);
    /// indices [L,k] UInt16 or Int32, each row's entries distinct and below d (not checked here: see
    /// <c>FixedFanInLinear.Validate</c>); bias Float32 [L] or null. Gradients flow to x, values and bias.</summary>
    public static Tensor FixedFanIn(Tensor x, Tensor values, Tensor indices, Tensor? bias)
    {
        const string op = "fixed_fan_in";
        var (batch, inFeatures, labels, fanIn) = CheckFixedFanIn(op, x, values, indices, bias);
        var be = x.Backend;
        using var xT = TransposeRows(x, batch, inFeatures, MemoryCategory.Activations);
        var dims = x.Shape.ToArray();
        dims[^1] = labels;
        var y = Tensor.Empty(new Shape(dims), DType.Float32, x.Device);
        using (var zT = Tensor.Empty(new Shape(labels, batch), DType.Float32, x.Device, MemoryCategory.Workspace))
        {
            be.FixedFanInForward(xT.Address, batch, inFeatures, values.Address, values.DType, indices.Address, indices.DType,
                bias?.Address ?? 0, labels, fanIn, zT.Address);
            be.Transpose2D(zT.Address, y.Address, labels, batch);
        }
        Tensor[] inputs = bias is null ? [x, values] : [x, values, bias];
        Autograd.Record(y, op, inputs, [xT, values, indices], (g, node) =>
        {
            var sxT = node.Saved(0);
            var sv = node.Saved(1);
            var si = node.Saved(2);
            var b = g.Backend;
            using var gT = Tensor.Empty(new Shape(labels, batch), DType.Float32, g.Device, MemoryCategory.Workspace);
            b.Transpose2D(g.Address, gT.Address, batch, labels);
            Tensor? gx = null, gv = null, gb = null;
            if (node.NeedsGrad(0))
            {
                using var gxT = Tensor.Zeros(new Shape(inFeatures, batch), DType.Float32, g.Device, MemoryCategory.Workspace);
                using var ws = Tensor.Empty(new Shape(checked((int)(b.FixedFanInBackwardInputWorkspaceBytes(batch, inFeatures) / sizeof(float)))),
                    DType.Float32, g.Device, MemoryCategory.Workspace);
                b.FixedFanInBackwardInput(gT.Address, batch, inFeatures, sv.Address, sv.DType, si.Address, si.DType, labels, fanIn, gxT.Address, ws.Address);
                gx = Tensor.Empty(node.Inputs[0].Shape, DType.Float32, g.Device);
                b.Transpose2D(gxT.Address, gx.Address, inFeatures, batch);
            }
            if (node.NeedsGrad(1))
            {
                gv = Tensor.Empty(sv.Shape, DType.Float32, g.Device);
                b.FixedFanInBackwardValues(sxT.Address, gT.Address, batch, inFeatures, si.Address, si.DType, labels, fanIn, gv.Address, 0f);
            }
            if (node.Inputs.Count == 3 && node.NeedsGrad(2))
            {
                gb = Tensor.Empty(new Shape(labels), DType.Float32, g.Device);
                b.ReduceCols(gT.Address, gb.Address, labels, batch, 1f);
            }
            return node.Inputs.Count == 3 ? [gx, gv, gb] : [gx, gv];
        });
        return y;
    }

    /// <summary>Checks the operands of the fixed fan-in ops; returns (batch rows, d, L, k).</summary>
    internal static (int Batch, int InFeatures, int Labels, int FanIn) CheckFixedFanIn(string op, Tensor x, Tensor values, Tensor indices, Tensor? bias)
    {
        Check.Float32(op, x);
        Check.Live(op, values);
        Check.Live(op, indices);
        Check.Rank(op, x, 1);
        Check.Rank(op, values, 2, 2);
        if (!values.DType.IsFloat())
        {
            throw new ArgumentException($"{op}: values must be Float32, BFloat16 or Float8E4M3, got {values.DType} {values.Shape}");
        }
        if (indices.DType is not (DType.UInt16 or DType.Int32))
        {
            throw new ArgumentException($"{op}: indices must be UInt16 or Int32, got {indices.DType} {indices.Shape}");
        }
        if (indices.Shape != values.Shape)
        {
            throw Check.ShapeMismatch(op, values.Shape, indices.Shape, "values and indices must both be [labels, fan-in]");
        }
        Check.SameDevice(op, x, values);
        Check.SameDevice(op, x, indices);
        int labels = values.Shape[0], fanIn = values.Shape[1];
        if (bias is not null)
        {
            Check.Float32(op, bias);
            Check.SameDevice(op, x, bias);
            if (bias.Shape != new Shape(labels))
            {
                throw Check.ShapeMismatch(op, values.Shape, bias.Shape, $"bias must be [{labels}]");
            }
        }
        int inFeatures = x.Shape.Last;
        if (fanIn > inFeatures)
        {
            throw Check.ShapeMismatch(op, x.Shape, values.Shape, $"fan-in {fanIn} exceeds the input width {inFeatures}");
        }
        return (checked((int)x.Shape.Rows), inFeatures, labels, fanIn);
    }

    /// <summary>An unrecorded [cols, rows] transpose of x seen as a [rows, cols] matrix.</summary>
    internal static Tensor TransposeRows(Tensor x, int rows, int cols, MemoryCategory category)
    {
        var t = Tensor.Empty(new Shape(cols, rows), DType.Float32, x.Device, category);
        x.Backend.Transpose2D(x.Address, t.Address, rows, cols);
        return t;
    }
}
