using Xmc.Engine;
using Xmc.Engine.Memory;

namespace Xmc.Models;

/// <summary>A trainable tensor owned by a <see cref="Module"/>. Its data lives outside every scope in the
/// Parameters category; its gradient is the data tensor's <see cref="Tensor.Grad"/>, allocated by the first
/// backward that reaches it (Gradients category) and freed by <see cref="ZeroGrad"/> or <see cref="Dispose"/>.
/// A BFloat16 parameter gets a Float32 gradient.</summary>
public sealed class Parameter : IDisposable
{
    /// <summary>Creates a zero-filled parameter of <paramref name="shape"/>, counted in <paramref name="category"/>
    /// (Parameters; OptimizerState for update state a layer keeps and saves with itself, such as the fused SGD's
    /// velocity).</summary>
    public Parameter(Shape shape, DType dtype = DType.Float32, Device? device = null, bool trainable = true, MemoryCategory category = MemoryCategory.Parameters)
    {
        if (dtype is not (DType.Float32 or DType.BFloat16) && trainable)
        {
            throw new ArgumentException($"a trainable parameter must be Float32 or BFloat16, got {dtype} {shape}", nameof(dtype));
        }
        Data = Tensor.CreateUntracked(shape, dtype, device ?? Device.Default, category);
        Data.RequiresGrad = trainable;
    }

    /// <summary>The values (what ops take as input).</summary>
    public Tensor Data { get; }

    /// <summary>The accumulated gradient, or null before the first backward.</summary>
    public Tensor? Grad => Data.Grad;

    /// <summary>Whether the optimizer updates it (integer tensors such as fan-in indices are not trainable).</summary>
    public bool Trainable => Data.RequiresGrad;

    /// <summary>The shape.</summary>
    public Shape Shape => Data.Shape;

    /// <summary>The storage dtype.</summary>
    public DType DType => Data.DType;

    /// <summary>Frees the gradient so the next backward starts from zero.</summary>
    public void ZeroGrad() => Data.ZeroGrad();

    /// <summary>Frees data and gradient.</summary>
    public void Dispose()
    {
        Data.ZeroGrad();
        Data.Dispose();
    }

    public override string ToString() => $"Parameter{Shape} {DType}{(Trainable ? "" : " (frozen)")}";
}
