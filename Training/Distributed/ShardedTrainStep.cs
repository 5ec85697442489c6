using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Models.Xmc;
using Xmc.Training.Data;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;
using Xmc.Training.Optim;

namespace Xmc.Training.Distributed;

/// <summary>One optimizer step of a label-sharded, data-parallel run, on every rank with the same global batch:
/// <list type="number">
/// <item>the rank encodes its ⌈B/P⌉ rows of the batch (rank r: rows r·⌈B/P⌉ on; the encoder is replicated);</item>
/// <item>the head inputs are all-gathered (payload ⌈B/P⌉·d floats per rank), so every rank holds the batch's [B, d];</item>
/// <item>each rank takes the loss of its labels over all B rows (mean over B, so the ranks' losses add up to the
/// one-process loss) and back-propagates it into its head block and into the [B, d] input;</item>
/// <item>the input gradients are reduce-scattered (payload P·⌈B/P⌉·d floats), each rank receiving the sum over
/// ranks for its own rows, and back-propagated through its encoder;</item>
/// <item>the encoder gradients are all-reduced (payload: the encoder's parameter count), so the replicated
/// encoders stay identical, and the optimizer steps.</item>
/// </list>
/// Sums run in rank order (<see cref="ICommunicator"/>), so the step's bits do not depend on timing.</summary>
public sealed class ShardedTrainStep(IXmcModel model, XmcDataset train, XmcInputs inputs, Optimizer optimizer, LabelChunking? chunking,
    ulong seed, ICommunicator communicator, LabelShard shard)
{
    private readonly Parameter[] _encoder = model.EncoderParameters().Where(p => p.Trainable).ToArray();

    /// <summary>Runs global step <paramref name="step"/> (0-based) on the batch <paramref name="rows"/> (the same on
    /// every rank); returns the loss of the whole head.</summary>
    /// <exception cref="NonFiniteLossException">The loss is not finite (on every rank alike); nothing was updated.</exception>
    public StepLoss Run(ReadOnlySpan<int> rows, long step, Func<double, string> describe)
    {
        ArgumentNullException.ThrowIfNull(describe);
        int ranks = communicator.Size, rank = communicator.Rank, batch = rows.Length;
        int per = (batch + ranks - 1) / ranks;
        int mine = Math.Clamp(batch - rank * per, 0, per);
        var device = Device.Cpu;
        int width = model.Head.InFeatures;
        long rowBytes = (long)width * sizeof(float);
        using var scope = TensorScope.Begin();
        model.TrainMode(seed, step);
        using var y = ShardLabels.Of(train, rows, shard, device);
        Tensor? local = mine > 0 ? model.Project(model.Embed(inputs.Batch(rows.Slice(rank * per, mine), device))) : null;

        var padded = Tensor.Zeros(new Shape(per, width), DType.Float32, device, MemoryCategory.Communication);
        if (local is not null)
        {
            padded.Backend.Copy(padded.Address, local.Address, mine * rowBytes);
        }
        var gathered = communicator.AllGather(padded);
        var x = Tensor.Empty(new Shape(batch, width), DType.Float32, device);
        ForEachBlock(ranks, per, batch, (r, count) => x.Backend.Copy(x.Address + (nint)(r * per * rowBytes), gathered.Address + (nint)(r * per * rowBytes), count * rowBytes));
        x.RequiresGrad = true;

        var loss = model.Head.Loss(x, y, chunking);
        using var total = Tensor.FromArray(new[] { loss.Item() }, new Shape(1), device, MemoryCategory.Communication);
        communicator.AllReduceSum(total);
        double value = total.ToArray<float>()[0];
        if (!double.IsFinite(value))
        {
            throw new NonFiniteLossException(describe(value));
        }
        loss.Backward();

        var inputGrad = Tensor.Zeros(new Shape(ranks * per, width), DType.Float32, device, MemoryCategory.Communication);
        using var dx = x.Grad ?? throw new InvalidOperationException("the head's loss did not reach its input");
        ForEachBlock(ranks, per, batch, (r, count) => inputGrad.Backend.Copy(inputGrad.Address + (nint)(r * per * rowBytes), dx.Address + (nint)(r * per * rowBytes), count * rowBytes));
        var myGrad = communicator.ReduceScatterSum(inputGrad);
        if (local is not null)
        {
            var seedGrad = Tensor.Empty(new Shape(mine, width), DType.Float32, device);
            seedGrad.Backend.Copy(seedGrad.Address, myGrad.Address, mine * rowBytes);
            local.Backward(seedGrad);
        }
        AllReduceEncoderGradients();
        optimizer.Step();
        model.Module.ZeroGrad();
        return new StepLoss(value, double.NaN);
    }

    /// <summary>Payload floats of one step's collectives for a batch of <paramref name="batch"/> rows on
    /// <paramref name="ranks"/> ranks, head input width <paramref name="width"/> and <paramref name="encoder"/> encoder
    /// parameters: all-gather ⌈B/P⌉·d, reduce-scatter P·⌈B/P⌉·d, all-reduce the encoder and the loss (1).</summary>
    public static (long AllGather, long ReduceScatter, long AllReduce) PayloadFloats(int batch, int ranks, int width, long encoder)
    {
        long per = (batch + ranks - 1) / ranks;
        return (per * width, ranks * per * width, encoder + 1);
    }

    /// <summary>The trainable encoder parameters' element count (the all-reduce payload of a step, minus the loss).</summary>
    public long EncoderFloats => _encoder.Sum(p => p.Shape.Numel);

    private void AllReduceEncoderGradients()
    {
        long total = EncoderFloats;
        if (total == 0)
        {
            return;
        }
        using var flat = Tensor.Empty(new Shape(checked((int)total)), DType.Float32, Device.Cpu, MemoryCategory.Communication);
        long at = 0;
        foreach (var p in _encoder)
        {
            var g = p.Data.EnsureGrad();
            flat.Backend.Copy(flat.Address + (nint)(at * sizeof(float)), g.Address, g.Bytes);
            at += g.Numel;
        }
        communicator.AllReduceSum(flat);
        at = 0;
        foreach (var p in _encoder)
        {
            var g = p.Grad!;
            g.Backend.Copy(g.Address, flat.Address + (nint)(at * sizeof(float)), g.Bytes);
            at += g.Numel;
        }
    }

    private static void ForEachBlock(int ranks, int per, int batch, Action<int, long> copy)
    {
        for (int r = 0; r < ranks; r++)
        {
            long count = Math.Clamp(batch - (long)r * per, 0, per);
            if (count > 0)
            {
                copy(r, count);
            }
        }
    }
}
