namespace Xmc.Engine.Cuda.Launch;

/// <summary>One parameter of a kernel: its name and canonical CUDA C type (<see cref="ICudaType.CudaName"/>).</summary>
public sealed record KernelParameter(string Name, string CudaType)
{
    public override string ToString() => $"{CudaType} {Name}";
}

/// <summary>The declaration of one <c>extern "C" __global__</c> kernel: the file it is in, its name and its parameters.
/// The typed subclasses <c>Kernel&lt;T1, …&gt;</c> (one per arity, <c>KernelArities.cs</c>) take the parameter types as
/// type arguments, so their <c>Launch</c> accepts exactly that many arguments of those types; every declaration is
/// in <see cref="Kernels"/>, and a test holds each against the signature in its file.</summary>
public abstract class Kernel
{
    private protected Kernel(string file, string name, string[] parameterNames, string[] cudaTypes)
    {
        if (parameterNames.Length != cudaTypes.Length)
        {
            throw new ArgumentException(
                $"{file}:{name} is declared with {cudaTypes.Length} parameter types but {parameterNames.Length} names ({string.Join(", ", parameterNames)})",
                nameof(parameterNames));
        }
        File = file;
        Name = name;
        Parameters = parameterNames.Zip(cudaTypes, (n, t) => new KernelParameter(n, t)).ToArray();
    }

    /// <summary>The kernel file (<c>Engine.Cuda/Kernels/*.cu</c>), e.g. <c>axpy.cu</c>.</summary>
    public string File { get; }

    /// <summary>The kernel's (unmangled) name, e.g. <c>axpy_f32</c>.</summary>
    public string Name { get; }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<KernelParameter> Parameters { get; }

    /// <summary>The declaration as C, e.g. <c>axpy.cu:axpy_f32(float* y, float const* x, long long n, float alpha)</c>.</summary>
    public override string ToString() => $"{File}:{Name}({string.Join(", ", Parameters)})";
}
