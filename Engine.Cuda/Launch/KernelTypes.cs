using System.Runtime.InteropServices;

namespace Xmc.Engine.Cuda.Launch;

// The C# side of kernel signatures: one type per CUDA C parameter type a kernel takes, laid out exactly as the C
// type (cuLaunchKernel copies each parameter's bytes from the address it is given, sized by the kernel's own
// signature), each naming its C type so that a test can hold every declaration against the .cu files.
//
// Implicit conversions let a launch pass plain C# values (nint addresses, int, long, float, ulong). The ones C#
// would otherwise chain in silently and that put a value of the wrong kind into a slot (an address into a count,
// a count into a float or a pointer) are declared and marked obsolete as errors, so such a launch does not compile.

/// <summary>A type that stands for a CUDA C type in a kernel signature.</summary>
public interface ICudaType
{
    /// <summary>The C spelling, canonical: east const (<c>float const*</c> for <c>const float*</c>), one space
    /// between words, none before a <c>*</c>.</summary>
    static abstract string CudaName { get; }
}

/// <summary>A type a kernel parameter can have (by value): a scalar or a pointer, with the C type's layout.</summary>
public interface IKernelParameter : ICudaType;

/// <summary>An element type of the fixed fan-in values (float32, or bfloat16 as raw words); its kernel-name suffix.</summary>
public interface IValueElement : ICudaType
{
    /// <summary>The suffix in kernel names, e.g. <c>bf16</c> in <c>fixed_fan_in_forward_bf16_u16</c>.</summary>
    static abstract string Suffix { get; }
}

/// <summary>An element type of the fixed fan-in indices (uint16 or int32); its kernel-name suffix.</summary>
public interface IIndexElement : ICudaType
{
    /// <summary>The suffix in kernel names, e.g. <c>u16</c> in <c>fixed_fan_in_forward_bf16_u16</c>.</summary>
    static abstract string Suffix { get; }
}

/// <summary>A device address, <c>T*</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct Ptr<T> : IKernelParameter where T : ICudaType
{
    private readonly nint _address;

    private Ptr(nint address) => _address = address;

    public static string CudaName => T.CudaName + "*";

    /// <summary>A device address (0 for a null pointer).</summary>
    public static implicit operator Ptr<T>(nint address) => new(address);

    [Obsolete("an int is not a device address", error: true)]
    public static implicit operator Ptr<T>(int value) => throw new InvalidOperationException();
}

/// <summary>C <c>T const</c>: what a <see cref="Ptr{T}"/> points to when the kernel only reads it (<c>Ptr&lt;Const&lt;F32&gt;&gt;</c>
/// is <c>const float*</c>, <c>Ptr&lt;Const&lt;Ptr&lt;F32&gt;&gt;&gt;</c> is <c>float* const*</c>).</summary>
public readonly struct Const<T> : ICudaType where T : ICudaType
{
    public static string CudaName => T.CudaName + " const";
}

/// <summary>C <c>int</c>; also the int32 index element.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct I32 : IKernelParameter, IIndexElement
{
    private readonly int _value;

    private I32(int value) => _value = value;

    public static string CudaName => "int";

    public static string Suffix => "i32";

    public static implicit operator I32(int value) => new(value);
}

/// <summary>C <c>long long</c> (element counts and offsets).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct I64 : IKernelParameter
{
    private readonly long _value;

    private I64(long value) => _value = value;

    public static string CudaName => "long long";

    public static implicit operator I64(long value) => new(value);

    /// <summary>Widened; declared so that an int does not resolve to the <see cref="nint"/> conversion below.</summary>
    public static implicit operator I64(int value) => new(value);

    [Obsolete("a device address is not a count: pass a long", error: true)]
    public static implicit operator I64(nint value) => throw new InvalidOperationException();
}

/// <summary>C <c>unsigned long long</c> (seeds, Philox offsets).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct U64 : IKernelParameter
{
    private readonly ulong _value;

    private U64(ulong value) => _value = value;

    public static string CudaName => "unsigned long long";

    public static implicit operator U64(ulong value) => new(value);
}

/// <summary>C <c>float</c>; also the float32 value element.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct F32 : IKernelParameter, IValueElement
{
    private readonly float _value;

    private F32(float value) => _value = value;

    public static string CudaName => "float";

    public static string Suffix => "f32";

    public static implicit operator F32(float value) => new(value);

    [Obsolete("an integer is not a float argument: pass a float", error: true)]
    public static implicit operator F32(int value) => throw new InvalidOperationException();

    [Obsolete("an integer is not a float argument: pass a float", error: true)]
    public static implicit operator F32(long value) => throw new InvalidOperationException();

    [Obsolete("an integer is not a float argument: pass a float", error: true)]
    public static implicit operator F32(ulong value) => throw new InvalidOperationException();

    [Obsolete("a device address is not a float argument", error: true)]
    public static implicit operator F32(nint value) => throw new InvalidOperationException();
}

/// <summary>bfloat16 stored as its raw 16 bits, C <c>unsigned short</c> (only pointed to).</summary>
public readonly struct BF16 : IValueElement
{
    public static string CudaName => "unsigned short";

    public static string Suffix => "bf16";
}

/// <summary>OCP FP8 E4M3 stored as its raw byte, C <c>unsigned char</c> (only pointed to).</summary>
public readonly struct F8 : IValueElement
{
    public static string CudaName => "unsigned char";

    public static string Suffix => "f8";
}

/// <summary>C <c>unsigned short</c>, the uint16 index element (only pointed to).</summary>
public readonly struct U16 : IIndexElement
{
    public static string CudaName => "unsigned short";

    public static string Suffix => "u16";
}

/// <summary>C <c>unsigned char</c>: bytes (only pointed to).</summary>
public readonly struct U8 : ICudaType
{
    public static string CudaName => "unsigned char";
}

/// <summary>C <c>unsigned int</c>: 4-byte words (only pointed to).</summary>
public readonly struct U32 : ICudaType
{
    public static string CudaName => "unsigned int";
}

/// <summary>C <c>double</c> (only pointed to).</summary>
public readonly struct F64 : ICudaType
{
    public static string CudaName => "double";
}

/// <summary>C <c>void</c>, for untyped buffers (only pointed to).</summary>
public readonly struct Untyped : ICudaType
{
    public static string CudaName => "void";
}
