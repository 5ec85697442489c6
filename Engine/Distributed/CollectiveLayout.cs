using System.Numerics.Tensors;
using Xmc.Engine.Memory;

namespace Xmc.Engine.Distributed;

/// <summary>What every communicator shares: the shapes of gathered and scattered blocks, the checks on the tensors
/// handed to a collective, and the sum of per-rank blocks in rank order.</summary>
public static class CollectiveLayout
{
    /// <summary>The shape of P stacked <paramref name="local"/> blocks: [P·n, …] (a scalar gives [P]).</summary>
    public static Shape Gathered(Shape local, int ranks)
    {
        if (local.Rank == 0)
        {
            return new Shape(ranks);
        }
        var dims = local.ToArray();
        dims[0] = checked(dims[0] * ranks);
        return new Shape(dims);
    }

    /// <summary>The shape of one rank's block of <paramref name="full"/> [P·n, …]: [n, …].</summary>
    public static Shape Block(Shape full, int ranks, string what)
    {
        if (full.Rank == 0 || full[0] % ranks != 0)
        {
            throw new ArgumentException($"{what}: a tensor of shape {full} does not split into {ranks} equal blocks along its first dimension");
        }
        var dims = full.ToArray();
        dims[0] /= ranks;
        return new Shape(dims);
    }

    /// <summary>Throws unless <paramref name="tensor"/> is a live float32 tensor (sums are float32 only).</summary>
    public static void RequireFloat32(Tensor tensor, string what)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.ThrowIfDisposed();
        if (tensor.DType != DType.Float32)
        {
            throw new ArgumentException($"{what}: sums are over float32 tensors, got {tensor.DType} {tensor.Shape}");
        }
    }

    /// <summary>Throws unless <paramref name="tensor"/> lives on the CPU (the MPI communicator moves host memory).</summary>
    public static void RequireCpu(Tensor tensor, string what)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.ThrowIfDisposed();
        if (tensor.Device.Kind != DeviceKind.Cpu)
        {
            throw new ArgumentException($"{what}: the MPI communicator moves CPU tensors, got one on {tensor.Device} (GPU tensors go through the NCCL communicator)");
        }
    }

    /// <summary><paramref name="destination"/> = Σ_r block r of <paramref name="blocks"/> (P consecutive blocks of
    /// destination's length), added in rank order: ((b0 + b1) + b2) + … — the same bits on every rank.</summary>
    public static void SumInRankOrder(ReadOnlySpan<float> blocks, int ranks, Span<float> destination)
    {
        int n = destination.Length;
        if (blocks.Length != (long)n * ranks)
        {
            throw new ArgumentException($"SumInRankOrder: {blocks.Length} values are not {ranks} blocks of {n}");
        }
        blocks[..n].CopyTo(destination);
        for (int r = 1; r < ranks; r++)
        {
            TensorPrimitives.Add(destination, blocks.Slice(r * n, n), destination);
        }
    }

    /// <summary>A CPU tensor for a collective's result or scratch, in <see cref="MemoryCategory.Communication"/>.</summary>
    public static Tensor Buffer(Shape shape, DType dtype, Device device) => Tensor.Empty(shape, dtype, device, MemoryCategory.Communication);
}
