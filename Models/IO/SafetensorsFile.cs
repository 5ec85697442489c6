using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Xmc.Engine;
using Xmc.Engine.Memory;

namespace Xmc.Models.IO;

/// <summary>A safetensors file opened for reading: the header is parsed and validated at once, and the file
/// is memory-mapped so that a tensor's bytes are read (and copied into an engine <see cref="Tensor"/>) only
/// when that tensor is asked for by name.</summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    // Elements converted per staging chunk, and bytes per direct copy: bounded host memory for any tensor size.
    private const int ConvertChunkElements = 1 << 20;
    private const int CopyChunkBytes = 1 << 28;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _data;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* data, SafetensorsHeader header)
    {
        Path = path;
        _map = map;
        _view = view;
        _data = data;
        Header = header;
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The validated header.</summary>
    public SafetensorsHeader Header { get; }

    /// <summary>Tensor names in data-buffer order.</summary>
    public IEnumerable<string> Names => Header.Entries.Select(e => e.Name);

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <summary>Opens, maps and validates <paramref name="path"/>.</summary>
    /// <exception cref="SafetensorsFormatException">The file breaks the format.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data is little-endian; this reader runs on little-endian hosts only");
        }
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8)
        {
            throw new SafetensorsFormatException(path, null, $"the file has {fileLength} bytes, fewer than the 8-byte header length");
        }
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            start += view.PointerOffset;
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(start, 8));
            if (headerLength > SafetensorsHeader.MaxHeaderBytes)
            {
                throw new SafetensorsFormatException(path, null, $"header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit");
            }
            if ((long)headerLength > fileLength - 8)
            {
                throw new SafetensorsFormatException(path, null, $"header length {headerLength} reaches beyond the end of the file ({fileLength} bytes)");
            }
            long dataStart = 8 + (long)headerLength;
            var header = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(start + 8, (int)headerLength), fileLength - dataStart, path);
            return new SafetensorsFile(path, map, view, start + dataStart, header);
        }
        catch
        {
            if (view is not null)
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
            }
            map.Dispose();
            throw;
        }
    }

    /// <summary>Whether a tensor of this name is in the file.</summary>
    public bool Contains(string name) => Header.Find(name) is not null;

    /// <summary>The header entry of tensor <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names the file.</exception>
    public SafetensorsEntry Entry(string name)
        => Header.Find(name) ?? throw new KeyNotFoundException($"safetensors '{Path}': no tensor named '{name}'");

    /// <summary>Copies tensor <paramref name="name"/> into a new tensor outside any scope (the caller disposes
    /// it). Floats load into Float32 or BFloat16 (F16 is decoded; float32 narrows to bfloat16 by round to
    /// nearest even), integers into Int32 or UInt16 (a value out of range is an error naming the element).
    /// Without <paramref name="dtype"/>: F32/F16 → Float32, BF16 → BFloat16, I32/I64 → Int32, U16 → UInt16.</summary>
    /// <exception cref="SafetensorsFormatException">The stored dtype cannot be loaded as asked, or a value does not fit.</exception>
    public Tensor Load(string name, DType? dtype = null, Device? device = null, MemoryCategory category = MemoryCategory.Parameters)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var entry = Entry(name);
        var target = dtype ?? SafetensorsConversion.DefaultTarget(entry.DType);
        if (!SafetensorsConversion.CanConvert(entry.DType, target))
        {
            throw new SafetensorsFormatException(Path, name, $"stored as {entry.DType.HeaderName()}, which cannot be loaded as {target}");
        }
        var shape = ToShape(entry);
        var tensor = Tensor.CreateUntracked(shape, target, device ?? Device.Default, category, zero: false);
        try
        {
            Fill(tensor, entry);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }

    private Shape ToShape(SafetensorsEntry entry)
    {
        var dims = new int[entry.Shape.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (entry.Shape[i] > int.MaxValue)
            {
                throw new SafetensorsFormatException(Path, entry.Name, $"dimension {i} of shape {entry.ShapeText} exceeds the engine's limit of {int.MaxValue}");
            }
            dims[i] = (int)entry.Shape[i];
        }
        return new Shape(dims);
    }

    private void Fill(Tensor tensor, SafetensorsEntry entry)
    {
        byte* src = _data + entry.Begin;
        int storedSize = entry.DType.SizeOf();
        if (SafetensorsConversion.StoredAs(tensor.DType) == entry.DType)
        {
            for (long done = 0; done < entry.ByteLength; done += CopyChunkBytes)
            {
                int n = (int)Math.Min(CopyChunkBytes, entry.ByteLength - done);
                tensor.CopyFrom(new ReadOnlySpan<byte>(src + done, n), start: done);
            }
            return;
        }
        int targetSize = tensor.DType.SizeOf();
        var staging = new byte[(int)Math.Min(ConvertChunkElements, entry.Numel) * targetSize];
        for (long first = 0; first < entry.Numel; first += ConvertChunkElements)
        {
            int n = (int)Math.Min(ConvertChunkElements, entry.Numel - first);
            var chunk = new ReadOnlySpan<byte>(src + first * storedSize, n * storedSize);
            long bad = SafetensorsConversion.Convert(chunk, entry.DType, staging.AsSpan(0, n * targetSize), tensor.DType);
            if (bad >= 0)
            {
                throw new SafetensorsFormatException(Path, entry.Name,
                    $"element {first + bad} of this {entry.DType.HeaderName()} tensor does not fit in {tensor.DType}");
            }
            tensor.CopyFrom<byte>(staging.AsSpan(0, n * targetSize), start: first * targetSize);
        }
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
