// One typed kernel class per number of parameters a kernel in Engine.Cuda/Kernels has; a kernel with a new
// number of parameters needs its class here (the same constructor and Launch, one more type argument).

namespace Xmc.Engine.Cuda.Launch;

/// <summary>A kernel of 2 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2)
    {
        void** arguments = stackalloc void*[] { &a1, &a2 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 3 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 4 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 5 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 6 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5, T6> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter where T6 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName, T6.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5, &a6 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 7 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5, T6, T7> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter where T6 : unmanaged, IKernelParameter where T7 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName, T6.CudaName, T7.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5, &a6, &a7 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 8 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5, T6, T7, T8> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter where T6 : unmanaged, IKernelParameter where T7 : unmanaged, IKernelParameter where T8 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName, T6.CudaName, T7.CudaName, T8.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 9 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5, T6, T7, T8, T9> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter where T6 : unmanaged, IKernelParameter where T7 : unmanaged, IKernelParameter where T8 : unmanaged, IKernelParameter where T9 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName, T6.CudaName, T7.CudaName, T8.CudaName, T9.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8, &a9 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 11 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter where T6 : unmanaged, IKernelParameter where T7 : unmanaged, IKernelParameter where T8 : unmanaged, IKernelParameter where T9 : unmanaged, IKernelParameter where T10 : unmanaged, IKernelParameter where T11 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName, T6.CudaName, T7.CudaName, T8.CudaName, T9.CudaName, T10.CudaName, T11.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8, &a9, &a10, &a11 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 13 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter where T6 : unmanaged, IKernelParameter where T7 : unmanaged, IKernelParameter where T8 : unmanaged, IKernelParameter where T9 : unmanaged, IKernelParameter where T10 : unmanaged, IKernelParameter where T11 : unmanaged, IKernelParameter where T12 : unmanaged, IKernelParameter where T13 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName, T6.CudaName, T7.CudaName, T8.CudaName, T9.CudaName, T10.CudaName, T11.CudaName, T12.CudaName, T13.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11, T12 a12, T13 a13)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8, &a9, &a10, &a11, &a12, &a13 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 17 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15, T16, T17> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter where T6 : unmanaged, IKernelParameter where T7 : unmanaged, IKernelParameter where T8 : unmanaged, IKernelParameter where T9 : unmanaged, IKernelParameter where T10 : unmanaged, IKernelParameter where T11 : unmanaged, IKernelParameter where T12 : unmanaged, IKernelParameter where T13 : unmanaged, IKernelParameter where T14 : unmanaged, IKernelParameter where T15 : unmanaged, IKernelParameter where T16 : unmanaged, IKernelParameter where T17 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName, T6.CudaName, T7.CudaName, T8.CudaName, T9.CudaName, T10.CudaName, T11.CudaName, T12.CudaName, T13.CudaName, T14.CudaName, T15.CudaName, T16.CudaName, T17.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11, T12 a12, T13 a13, T14 a14, T15 a15, T16 a16, T17 a17)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8, &a9, &a10, &a11, &a12, &a13, &a14, &a15, &a16, &a17 };
        launcher.Launch(this, shape, arguments);
    }
}

/// <summary>A kernel of 18 parameters, of types <typeparamref name="T1"/> … in order.</summary>
public sealed unsafe class Kernel<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15, T16, T17, T18> : Kernel
    where T1 : unmanaged, IKernelParameter where T2 : unmanaged, IKernelParameter where T3 : unmanaged, IKernelParameter where T4 : unmanaged, IKernelParameter where T5 : unmanaged, IKernelParameter where T6 : unmanaged, IKernelParameter where T7 : unmanaged, IKernelParameter where T8 : unmanaged, IKernelParameter where T9 : unmanaged, IKernelParameter where T10 : unmanaged, IKernelParameter where T11 : unmanaged, IKernelParameter where T12 : unmanaged, IKernelParameter where T13 : unmanaged, IKernelParameter where T14 : unmanaged, IKernelParameter where T15 : unmanaged, IKernelParameter where T16 : unmanaged, IKernelParameter where T17 : unmanaged, IKernelParameter where T18 : unmanaged, IKernelParameter
{
    /// <summary>Declares a kernel (in <see cref="Kernels"/>, which a test checks against the kernel files).</summary>
    internal Kernel(string file, string name, params string[] parameterNames) : base(file, name, parameterNames, [T1.CudaName, T2.CudaName, T3.CudaName, T4.CudaName, T5.CudaName, T6.CudaName, T7.CudaName, T8.CudaName, T9.CudaName, T10.CudaName, T11.CudaName, T12.CudaName, T13.CudaName, T14.CudaName, T15.CudaName, T16.CudaName, T17.CudaName, T18.CudaName]) { }

    /// <summary>Queues the kernel with these arguments on <paramref name="launcher"/> (a device's <see cref="CudaKernels"/>).</summary>
    public void Launch(IKernelLauncher launcher, LaunchShape shape, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11, T12 a12, T13 a13, T14 a14, T15 a15, T16 a16, T17 a17, T18 a18)
    {
        void** arguments = stackalloc void*[] { &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8, &a9, &a10, &a11, &a12, &a13, &a14, &a15, &a16, &a17, &a18 };
        launcher.Launch(this, shape, arguments);
    }
}
