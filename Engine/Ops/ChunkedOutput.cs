using Xmc.Engine.Backends;
using Xmc.Engine.Memory;

namespace Xmc.Engine;

/// <summary>An output layer seen one label chunk at a time, for the chunked loss and top-k: it writes the
/// logits of labels l0 .. l0+n−1 label-major (zT [n, batch]) and, given their gradient in the same layout,
/// accumulates the gradients of its inputs. Holds its scratch (Workspace) until disposed. The one chunk loop of
/// the output ops is <see cref="ForEachChunk"/>, and the one chunk size <see cref="ChunkLabels"/>.</summary>
internal abstract class ChunkedOutput : IDisposable
{
    public int Labels { get; protected init; }

    public int Batch { get; protected init; }

    /// <summary>Scratch bytes one label of a chunk costs beyond the chunk's logits.</summary>
    public abstract long ExtraBytesPerLabel { get; }

    public abstract void Logits(int l0, int n, nint zT);

    public abstract void Backward(int l0, int n, nint deltaT);

    /// <summary>Whether <see cref="Backward"/> updates the layer in place (and so runs whether or not the loss is
    /// recorded).</summary>
    public virtual bool UpdatesInPlace => false;

    /// <summary>Address of the loss's running Float32 sum, set by the loss before the first chunk (an in-place
    /// update skips itself once it is not finite).</summary>
    public nint LossSum { get; set; }

    /// <summary>The finished gradients, one per input of the op (null where not wanted).</summary>
    public abstract Tensor?[] Gradients();

    public abstract void Dispose();

    /// <summary>Labels per chunk under <paramref name="chunking"/>: each label costs its logits column [batch]
    /// plus <see cref="ExtraBytesPerLabel"/>.</summary>
    public int ChunkLabels(LabelChunking chunking) => chunking.For(Labels, (long)Batch * sizeof(float) + ExtraBytesPerLabel);

    /// <summary>Computes the logits chunk by chunk into one scratch zT [chunk, batch] and hands each chunk to
    /// <paramref name="visit"/> (first label, labels in the chunk, zT) while they are at hand.</summary>
    public void ForEachChunk(LabelChunking chunking, Action<int, int, nint> visit)
    {
        int n = ChunkLabels(chunking);
        var device = Device;
        using var zT = Tensor.Empty(new Shape(n, Batch), DType.Float32, device, MemoryCategory.Workspace);
        for (int l0 = 0; l0 < Labels; l0 += n)
        {
            int m = Math.Min(n, Labels - l0);
            Logits(l0, m, zT.Address);
            visit(l0, m, zT.Address);
        }
    }

    /// <summary>The device the layer's input lives on.</summary>
    protected abstract Device Device { get; }

    /// <summary>A Float32 gradient buffer shaped as <paramref name="input"/> when it is wanted and the input requires
    /// a gradient, else null; left uninitialised, as each chunk writes its own rows.</summary>
    protected static Tensor? GradientFor(Tensor? input, bool wantGrads)
        => wantGrads && input is { RequiresGrad: true }
            ? Tensor.Empty(input.Shape, DType.Float32, input.Device, MemoryCategory.Gradients)
            : null;
}

/// <summary>The fixed fan-in layer chunk by chunk.</summary>
internal sealed class FixedFanInChunks : ChunkedOutput
{
    private readonly IBackend _be;
    private readonly Tensor _x, _values, _indices;
    private readonly Tensor? _bias;
    private readonly int _inFeatures, _fanIn;
    private readonly Tensor _xT;
    private readonly Tensor? _gxT, _workspace, _gv, _gb;
    private readonly FixedFanInSgd? _sgd;
    private readonly string _op;

    /// <summary>The layer chunk by chunk; with <paramref name="sgd"/> each chunk's values and bias are updated in
    /// place (after the chunk's input gradient has read the old values) and no gradient is kept for them.</summary>
    public FixedFanInChunks(string op, Tensor x, Tensor values, Tensor indices, Tensor? bias, bool wantGrads, FixedFanInSgd? sgd = null)
    {
        _op = op;
        _sgd = sgd;
        int batch, labels;
        (batch, _inFeatures, labels, _fanIn) = Ops.CheckFixedFanIn(op, x, values, indices, bias);
        (Batch, Labels) = (batch, labels);
        _be = x.Backend;
        (_x, _values, _indices, _bias) = (x, values, indices, bias);
        _xT = Ops.TransposeRows(x, Batch, _inFeatures, MemoryCategory.Workspace);
        if (wantGrads && x.RequiresGrad)
        {
            _gxT = Tensor.Zeros(new Shape(_inFeatures, Batch), DType.Float32, x.Device, MemoryCategory.Workspace);
            _workspace = Tensor.Empty(new Shape(checked((int)(_be.FixedFanInBackwardInputWorkspaceBytes(Batch, _inFeatures) / sizeof(float)))),
                DType.Float32, x.Device, MemoryCategory.Workspace);
        }
        if (sgd is null)
        {
            _gv = GradientFor(values, wantGrads);
            _gb = GradientFor(bias, wantGrads);
        }
    }

    public override long ExtraBytesPerLabel => 0;

    public override bool UpdatesInPlace => _sgd is not null;

    protected override Device Device => _x.Device;

    public override void Logits(int l0, int n, nint zT)
    {
        long slot = (long)l0 * _fanIn;
        _be.FixedFanInForward(_xT.Address, Batch, _inFeatures, _values.Address + (nint)(slot * _values.DType.SizeOf()), _values.DType,
            _indices.Address + (nint)(slot * _indices.DType.SizeOf()), _indices.DType,
            _bias is null ? 0 : _bias.Address + (nint)l0 * sizeof(float), n, _fanIn, zT);
    }

    public override void Backward(int l0, int n, nint deltaT)
    {
        long slot = (long)l0 * _fanIn;
        _be.FixedFanInBackward(_xT.Address, deltaT, Batch, _inFeatures, _values.Address + (nint)(slot * _values.DType.SizeOf()), _values.DType,
            _indices.Address + (nint)(slot * _indices.DType.SizeOf()), _indices.DType, n, _fanIn,
            _gv is null ? 0 : _gv.Address + (nint)(slot * sizeof(float)), _gb is null ? 0 : _gb.Address + (nint)l0 * sizeof(float),
            _gxT is null ? 0 : _gxT.Address, _workspace is null ? 0 : _workspace.Address);
        if (_sgd is not null)
        {
            var args = _sgd.Args(_op, _values, _bias, LossSum);
            _be.FixedFanInSgdUpdate(_xT.Address, deltaT, Batch, _values.Address, _values.DType, _indices.Address, _indices.DType,
                _bias?.Address ?? 0, l0, n, _fanIn, args);
        }
    }

    public override Tensor?[] Gradients()
    {
        Tensor? gx = null;
        if (_gxT is not null)
        {
            gx = Tensor.Empty(_x.Shape, DType.Float32, _x.Device, MemoryCategory.Gradients);
            _be.Transpose2D(_gxT.Address, gx.Address, _inFeatures, Batch);
        }
        return _sgd is not null ? [gx] : _bias is null ? [gx, _gv] : [gx, _gv, _gb];
    }

    public override void Dispose()
    {
        _xT.Dispose();
        _gxT?.Dispose();
        _workspace?.Dispose();
    }
}

/// <summary>A dense linear head (weight [L, d]), optionally times a 0/1 mask of the same shape, chunk by chunk.</summary>
internal sealed class LinearChunks : ChunkedOutput
{
    private readonly IBackend _be;
    private readonly Tensor _x, _weight;
    private readonly Tensor? _mask, _bias, _masked, _gx, _gw, _gb;
    private readonly int _inFeatures;

    public LinearChunks(string op, Tensor x, Tensor weight, Tensor? mask, Tensor? bias, bool wantGrads, LabelChunking chunking)
    {
        Check.Float32(op, x);
        Check.Float32(op, weight);
        Check.Rank(op, x, 1);
        Check.Rank(op, weight, 2, 2);
        Check.SameDevice(op, x, weight);
        _inFeatures = x.Shape.Last;
        if (weight.Shape[1] != _inFeatures)
        {
            throw Check.ShapeMismatch(op, x.Shape, weight.Shape, "the weight must be [labels, input width]");
        }
        Labels = weight.Shape[0];
        Batch = checked((int)x.Shape.Rows);
        if (mask is not null)
        {
            Check.Float32(op, mask);
            Check.SameDevice(op, x, mask);
            if (mask.Shape != weight.Shape)
            {
                throw Check.ShapeMismatch(op, weight.Shape, mask.Shape, "the mask must have the weight's shape");
            }
        }
        if (bias is not null)
        {
            Check.Float32(op, bias);
            Check.SameDevice(op, x, bias);
            if (bias.Shape != new Shape(Labels))
            {
                throw Check.ShapeMismatch(op, weight.Shape, bias.Shape, $"bias must be [{Labels}]");
            }
        }
        _be = x.Backend;
        (_x, _weight, _mask, _bias) = (x, weight, mask, bias);
        if (mask is not null)
        {
            _masked = Tensor.Empty(new Shape(ChunkLabels(chunking), _inFeatures), DType.Float32, x.Device, MemoryCategory.Workspace);
        }
        if (wantGrads && x.RequiresGrad)
        {
            _gx = Tensor.Zeros(x.Shape, DType.Float32, x.Device, MemoryCategory.Gradients);
        }
        _gw = GradientFor(weight, wantGrads);
        _gb = GradientFor(bias, wantGrads);
    }

    protected override Device Device => _x.Device;

    public override long ExtraBytesPerLabel => _mask is null ? 0 : (long)_inFeatures * sizeof(float);

    private nint Rows(Tensor t, int l0) => t.Address + (nint)((long)l0 * _inFeatures * sizeof(float));

    /// <summary>The chunk's effective weight rows: the weight itself, or weight ⊙ mask in scratch.</summary>
    private nint EffectiveWeight(int l0, int n)
    {
        if (_mask is null)
        {
            return Rows(_weight, l0);
        }
        _be.Binary(BinaryOp.Mul, Rows(_weight, l0), Rows(_mask, l0), _masked!.Address, n, _inFeatures, Broadcast.None);
        return _masked.Address;
    }

    public override void Logits(int l0, int n, nint zT)
    {
        nint w = EffectiveWeight(l0, n);
        _be.Sgemm(false, true, n, Batch, _inFeatures, 1f, w, _inFeatures, 0, _x.Address, _inFeatures, 0, 0f, zT, Batch, 0, 1);
        if (_bias is not null)
        {
            _be.Binary(BinaryOp.Add, zT, _bias.Address + (nint)l0 * sizeof(float), zT, n, Batch, Broadcast.Column);
        }
    }

    // Runs right after Logits of the same chunk, so the masked scratch still holds this chunk's weights.
    public override void Backward(int l0, int n, nint deltaT)
    {
        if (_gw is not null)
        {
            nint gw = Rows(_gw, l0);
            _be.Sgemm(false, false, n, _inFeatures, Batch, 1f, deltaT, Batch, 0, _x.Address, _inFeatures, 0, 0f, gw, _inFeatures, 0, 1);
            if (_mask is not null)
            {
                _be.Binary(BinaryOp.Mul, gw, Rows(_mask, l0), gw, n, _inFeatures, Broadcast.None);
            }
        }
        if (_gb is not null)
        {
            _be.ReduceCols(deltaT, _gb.Address + (nint)l0 * sizeof(float), n, Batch, 1f);
        }
        if (_gx is not null)
        {
            nint w = _mask is null ? Rows(_weight, l0) : _masked!.Address;
            _be.Sgemm(true, false, Batch, _inFeatures, n, 1f, deltaT, Batch, 0, w, _inFeatures, 0, 1f, _gx.Address, _inFeatures, 0, 1);
        }
    }

    public override Tensor?[] Gradients() => _bias is null ? [_gx, _gw] : [_gx, _gw, _gb];

    public override void Dispose() => _masked?.Dispose();
}
