using System.Runtime.InteropServices;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;

namespace Xmc.Engine;

/// <summary>A dense, contiguous, row-major tensor on one device. It owns one reference to a device buffer
/// (a reshape view or a saved copy shares the buffer). Dispose it, or create it inside a
/// <see cref="TensorScope"/>, to return its memory; the garbage collector never frees device memory.</summary>
public sealed class Tensor : IDisposable
{
    private readonly DeviceBuffer _buffer;
    private readonly long _byteOffset;
    private bool _disposed;
    private bool _requiresGrad;

    private Tensor(DeviceBuffer buffer, long byteOffset, Shape shape, DType dtype, bool track)
    {
        _buffer = buffer;
        _byteOffset = byteOffset;
        Shape = shape;
        DType = dtype;
        if (track)
        {
            Scope = TensorScope.Track(this);
        }
    }

    /// <summary>The scope that will free this tensor, or null.</summary>
    internal TensorScope? Scope { get; set; }

    /// <summary>Whether this handle is the only reference to its buffer and spans all of it: then handing the
    /// handle over hands over the memory.</summary>
    internal bool OwnsBuffer => !_disposed && _buffer.References == 1 && _byteOffset == 0 && Bytes == _buffer.Bytes;

    /// <summary>The shape.</summary>
    public Shape Shape { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The device the data lives on.</summary>
    public Device Device => _buffer.Device;

    /// <summary>The backend that runs kernels on this tensor's device.</summary>
    public IBackend Backend => BackendRegistry.For(Device);

    /// <summary>The category the buffer is counted in.</summary>
    public MemoryCategory Category => _buffer.Category;

    /// <summary>Number of elements.</summary>
    public long Numel => Shape.Numel;

    /// <summary>Size of the data in bytes.</summary>
    public long Bytes => Numel * DType.SizeOf();

    /// <summary>Optional name used in error messages (parameters carry theirs).</summary>
    public string? Name { get; set; }

    /// <summary>Whether gradients flow to this tensor. Settable on leaves only. A BFloat16 leaf (a parameter
    /// stored in bf16) may require gradients; its gradient is Float32.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (GradFn is not null && !value)
            {
                throw new InvalidOperationException($"tensor {Shape} is the output of '{GradFn.OpName}'; only leaves can stop requiring gradients (use Detach)");
            }
            if (value && DType != DType.Float32 && DType != DType.BFloat16)
            {
                throw new InvalidOperationException($"tensor {Shape} of dtype {DType} cannot require gradients: only Float32 and BFloat16 tensors can");
            }
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient of a leaf after <see cref="Backward"/> (Gradients category), or null.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>The node that made this tensor, or null for a leaf.</summary>
    public Node? GradFn { get; internal set; }

    /// <summary>True for tensors not made by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Address of the first element on the device. Throws if disposed.</summary>
    public nint Address
    {
        get
        {
            ThrowIfDisposed();
            return _buffer.Address + (nint)_byteOffset;
        }
    }

    internal DeviceBuffer Buffer => _buffer;

    /// <summary>Marks an op's output as part of the graph (bypasses the leaf-only setter).</summary>
    internal void AttachNode(Node node)
    {
        GradFn = node;
        _requiresGrad = true;
    }

    // ---------------------------------------------------------------- creation

    /// <summary>A tensor with undefined contents.</summary>
    public static Tensor Empty(Shape shape, DType dtype = DType.Float32, Device? device = null, MemoryCategory? category = null)
        => Allocate(shape, dtype, device ?? Device.Default, category ?? DefaultCategory, track: true);

    [ThreadStatic]
    private static MemoryCategory? _defaultCategory;

    /// <summary>The category new tensors are counted in when none is named: Activations, unless a
    /// <see cref="CategoryScope"/> says otherwise on this thread (backward uses Gradients).</summary>
    public static MemoryCategory DefaultCategory => _defaultCategory ?? MemoryCategory.Activations;

    /// <summary>Makes <paramref name="category"/> the default for new tensors on this thread until disposed.</summary>
    public static IDisposable CategoryScope(MemoryCategory category)
    {
        var previous = _defaultCategory;
        _defaultCategory = category;
        return new Restore(() => _defaultCategory = previous);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        private Action? _undo = undo;

        public void Dispose()
        {
            _undo?.Invoke();
            _undo = null;
        }
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32, Device? device = null, MemoryCategory? category = null)
    {
        var t = Empty(shape, dtype, device, category);
        t.Backend.Zero(t.Address, t.Bytes);
        return t;
    }

    /// <summary>A float32 tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, float value, Device? device = null, MemoryCategory? category = null)
    {
        var t = Empty(shape, DType.Float32, device, category);
        t.Backend.Fill(t.Address, t.Numel, value);
        return t;
    }

    /// <summary>A float32 scalar (shape []).</summary>
    public static Tensor Scalar(float value, Device? device = null) => Full(new Shape(), value, device);

    /// <summary>Copies host data into a new tensor; the element type picks the dtype.</summary>
    public static Tensor FromArray<T>(ReadOnlySpan<T> data, Shape shape, Device? device = null, MemoryCategory? category = null)
        where T : unmanaged
    {
        if (data.Length != shape.Numel)
        {
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {shape} ({shape.Numel} elements)", nameof(data));
        }
        var t = Empty(shape, DTypeInfo.Of<T>(), device, category);
        t.CopyFrom(data);
        return t;
    }

    /// <summary>Copies host data into a new tensor; the element type picks the dtype.</summary>
    public static Tensor FromArray<T>(T[] data, Shape shape, Device? device = null, MemoryCategory? category = null)
        where T : unmanaged => FromArray((ReadOnlySpan<T>)data, shape, device, category);

    /// <summary>Copies a 1-D host array into a new tensor of shape [n].</summary>
    public static Tensor FromArray<T>(T[] data, Device? device = null, MemoryCategory? category = null)
        where T : unmanaged => FromArray((ReadOnlySpan<T>)data, new Shape(data.Length), device, category);

    internal static Tensor Allocate(Shape shape, DType dtype, Device device, MemoryCategory category, bool track)
    {
        var backend = BackendRegistry.For(device);
        var buffer = backend.Allocator.Allocate(shape.Numel * dtype.SizeOf(), category);
        return new Tensor(buffer, 0, shape, dtype, track);
    }

    /// <summary>A tensor created outside any scope (it must be disposed explicitly): parameters, gradients,
    /// optimizer state.</summary>
    public static Tensor CreateUntracked(Shape shape, DType dtype, Device device, MemoryCategory category, bool zero = true)
    {
        var t = Allocate(shape, dtype, device, category, track: false);
        if (zero)
        {
            t.Backend.Zero(t.Address, t.Bytes);
        }
        return t;
    }

    // ---------------------------------------------------------------- views and handles

    /// <summary>A new handle to the same data with another shape of equal element count (no copy).
    /// Not recorded by autodiff: the reshape op records it.</summary>
    internal Tensor View(Shape shape, long extraByteOffset = 0)
    {
        ThrowIfDisposed();
        if (extraByteOffset < 0 || _byteOffset + extraByteOffset + shape.Numel * DType.SizeOf() > _buffer.Bytes)
        {
            throw new ArgumentException($"view {shape} at byte offset {extraByteOffset} does not fit in tensor {Shape} ({_buffer.Bytes} bytes of buffer)", nameof(shape));
        }
        _buffer.Retain();
        return new Tensor(_buffer, _byteOffset + extraByteOffset, shape, DType, track: true);
    }

    /// <summary>Another handle to the same data that the autodiff graph holds on to, so that the data outlives
    /// the caller's handle until the node that saved it has run. Scope-tracked like any tensor, so a graph that
    /// is never back-propagated is still freed when its step scope ends.</summary>
    internal Tensor ShareForGraph()
    {
        ThrowIfDisposed();
        _buffer.Retain();
        return new Tensor(_buffer, _byteOffset, Shape, DType, track: true);
    }

    /// <summary>A leaf handle to the same data that does not require gradients.</summary>
    public Tensor Detach() => View(Shape);

    // ---------------------------------------------------------------- host access

    /// <summary>Copies the data to a new host array; <typeparamref name="T"/> must match the dtype.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        ThrowIfDisposed();
        if (DTypeInfo.Of<T>() != DType)
        {
            throw new InvalidOperationException($"ToArray<{typeof(T).Name}> on a {DType} tensor {Shape}: dtype mismatch");
        }
        var result = new T[Numel];
        CopyTo(result.AsSpan());
        return result;
    }

    /// <summary>Copies <paramref name="source"/> from the host into the whole tensor. <typeparamref name="T"/> must
    /// have the size of the tensor's element (float or int into a 4-byte dtype, <see cref="BFloat16"/> or ushort
    /// into a 2-byte one; the bits are copied as they are), or be <see cref="byte"/> for the raw bytes; the span
    /// must hold exactly the tensor's data.</summary>
    /// <exception cref="ArgumentException">The element size or the length does not match the tensor.</exception>
    public void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
        => Backend.CopyFromHost(Address + (nint)ByteOffsetOf<T>(source.Length, 0, whole: true, nameof(CopyFrom)), MemoryMarshal.AsBytes(source));

    /// <summary>Copies <paramref name="source"/> from the host into part of the tensor, starting at
    /// <paramref name="start"/> counted in units of <typeparamref name="T"/> (elements, or bytes for
    /// <see cref="byte"/>) — for data streamed in chunks. The element rules are those of
    /// <see cref="CopyFrom{T}(ReadOnlySpan{T})"/>.</summary>
    /// <exception cref="ArgumentException">The element size does not match, or the range is not inside the tensor.</exception>
    public void CopyFrom<T>(ReadOnlySpan<T> source, long start) where T : unmanaged
        => Backend.CopyFromHost(Address + (nint)ByteOffsetOf<T>(source.Length, start, whole: false, nameof(CopyFrom)), MemoryMarshal.AsBytes(source));

    /// <summary>Copies the whole tensor to <paramref name="destination"/> on the host (waits for pending device
    /// work). The element rules are those of <see cref="CopyFrom{T}(ReadOnlySpan{T})"/>; the span must be
    /// exactly the tensor's size.</summary>
    /// <exception cref="ArgumentException">The element size or the length does not match the tensor.</exception>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
        => Backend.CopyToHost(Address + (nint)ByteOffsetOf<T>(destination.Length, 0, whole: true, nameof(CopyTo)), MemoryMarshal.AsBytes(destination));

    /// <summary>Copies part of the tensor, starting at <paramref name="start"/> in units of
    /// <typeparamref name="T"/>, to <paramref name="destination"/> on the host (it fills the whole span).</summary>
    /// <exception cref="ArgumentException">The element size does not match, or the range is not inside the tensor.</exception>
    public void CopyTo<T>(Span<T> destination, long start) where T : unmanaged
        => Backend.CopyToHost(Address + (nint)ByteOffsetOf<T>(destination.Length, start, whole: false, nameof(CopyTo)), MemoryMarshal.AsBytes(destination));

    /// <summary>The byte offset of <paramref name="count"/> host values of <typeparamref name="T"/> placed at
    /// <paramref name="start"/> (in units of T), after checking they are whole elements inside the tensor.</summary>
    private unsafe long ByteOffsetOf<T>(long count, long start, bool whole, string op) where T : unmanaged
    {
        ThrowIfDisposed();
        int unit = sizeof(T), element = DType.SizeOf();
        if (unit != element && typeof(T) != typeof(byte))
        {
            throw new ArgumentException($"{op}<{typeof(T).Name}> on a {DType} tensor {Shape}: {typeof(T).Name} is {unit} bytes, a {DType} element {element} (use a {element}-byte type, or byte for the raw data)");
        }
        long offset = start * unit, length = count * unit;
        if (whole && length != Bytes)
        {
            throw new ArgumentException($"{op}<{typeof(T).Name}> on a {DType} tensor {Shape}: the host span holds {count} values of {typeof(T).Name}, the tensor {Bytes / unit}");
        }
        if (start < 0 || offset % element != 0 || offset + length > Bytes)
        {
            throw new ArgumentException($"{op}<{typeof(T).Name}> on a {DType} tensor {Shape}: {count} values at {start} are not whole elements inside its {Bytes / unit} values of {typeof(T).Name}");
        }
        return offset;
    }

    /// <summary>The data as floats (BFloat16 and Float8E4M3 are widened).</summary>
    public float[] ToFloatArray()
    {
        return DType switch
        {
            DType.Float32 => ToArray<float>(),
            DType.BFloat16 => Widen(ToArray<BFloat16>()),
            DType.Float8E4M3 => Widen8(ToArray<Float8E4M3>()),
            _ => throw new InvalidOperationException($"ToFloatArray on a {DType} tensor {Shape}: not a floating dtype"),
        };

        static float[] Widen8(Float8E4M3[] b)
        {
            var f = new float[b.Length];
            Float8E4M3.ToSingles(b, f);
            return f;
        }

        static float[] Widen(BFloat16[] b)
        {
            var f = new float[b.Length];
            BFloat16.ToSingles(b, f);
            return f;
        }
    }

    /// <summary>The value of a one-element float32 tensor.</summary>
    public float Item()
    {
        if (Numel != 1)
        {
            throw new InvalidOperationException($"Item() needs a one-element tensor, got {Shape}");
        }
        return ToFloatArray()[0];
    }

    /// <summary>A span over the data of a CPU tensor.</summary>
    public unsafe Span<T> AsSpan<T>() where T : unmanaged
    {
        ThrowIfDisposed();
        if (Device.Kind != DeviceKind.Cpu)
        {
            throw new InvalidOperationException($"AsSpan on tensor {Shape} on {Device}: only CPU tensors can be viewed from the host; use ToArray");
        }
        if (DTypeInfo.Of<T>() != DType)
        {
            throw new InvalidOperationException($"AsSpan<{typeof(T).Name}> on a {DType} tensor {Shape}: dtype mismatch");
        }
        return new Span<T>((void*)Address, checked((int)Numel));
    }

    // ---------------------------------------------------------------- autodiff

    /// <summary>Back-propagates from this tensor: a scalar by default, or any shape with
    /// <paramref name="seed"/> as dL/d(this). Gradients accumulate into leaves' <see cref="Grad"/>.</summary>
    public void Backward(Tensor? seed = null, bool retainGraph = false) => Autograd.Backward(this, seed, retainGraph);

    /// <summary>The gradient of this leaf, allocated as zeros (Gradients category) when no backward has reached it
    /// yet: a data-parallel step sums every rank's gradient of every parameter, also on a rank whose own rows did
    /// not touch it.</summary>
    public Tensor EnsureGrad()
    {
        ThrowIfDisposed();
        if (!IsLeaf || !RequiresGrad)
        {
            throw new InvalidOperationException($"EnsureGrad on tensor {Shape}: only a leaf that requires gradients has one");
        }
        if (Grad is null || Grad.IsDisposed)
        {
            Grad = CreateUntracked(Shape, DType, Device, MemoryCategory.Gradients);
        }
        return Grad;
    }

    /// <summary>Frees the gradient buffer of this tensor (next backward starts from zero).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    // ---------------------------------------------------------------- lifetime

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming the shape if this tensor was disposed.</summary>
    public void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new ObjectDisposedException($"Tensor{Shape}", $"tensor {Shape} ({DType}{(Name is null ? "" : ", " + Name)}) was used after it was disposed");
        }
    }

    /// <summary>Releases this handle's reference to the data (idempotent). Does not free <see cref="Grad"/>;
    /// a parameter frees its gradient itself.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _buffer.Release();
    }

    public override string ToString() => $"Tensor{Shape} {DType} on {Device}{(Name is null ? "" : " '" + Name + "'")}{(_disposed ? " (disposed)" : "")}";
}
