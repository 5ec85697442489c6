using System.Runtime.InteropServices;

namespace Xmc.Engine.Cuda.Launch;

/// <summary>One kernel parameter in an 8-byte slot, value at offset 0: <c>cuLaunchKernel</c> reads each parameter's
/// size (4 or 8 bytes) from the kernel's own signature, starting at the slot's address.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public readonly struct KernelArgument
{
    [FieldOffset(0)] private readonly long _int64;
    [FieldOffset(0)] private readonly int _int32;
    [FieldOffset(0)] private readonly float _float32;

    private KernelArgument(long value) : this() => _int64 = value;

    private KernelArgument(int value) : this() => _int32 = value;

    private KernelArgument(float value) : this() => _float32 = value;

    /// <summary>A device pointer.</summary>
    public static implicit operator KernelArgument(nint pointer) => new((long)pointer);

    /// <summary>A <c>long long</c> (element counts).</summary>
    public static implicit operator KernelArgument(long value) => new(value);

    /// <summary>An <c>int</c>.</summary>
    public static implicit operator KernelArgument(int value) => new(value);

    /// <summary>A <c>float</c>.</summary>
    public static implicit operator KernelArgument(float value) => new(value);
}
