using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Xmc.Training.Data;

/// <summary>
/// Decompresses a gzip file and, at its end, checks the decompressed bytes against the size and CRC-32 its trailer
/// records. .NET's <see cref="GZipStream"/> ends quietly where a truncated file ends, so without this check a file
/// cut short would lose its last points (or a cut-off last line would parse) without a word. A mismatch is an
/// <see cref="InvalidDataException"/>, which the parsers report at the line they reached. A file of several
/// concatenated gzip members is checked against its last member's trailer, so it fails too (the message says so).
/// </summary>
internal sealed class CheckedGzipStream : Stream
{
    private const int MinimumGzipLength = 18; // 10-byte header, an empty deflate block, 8-byte trailer
    private readonly GZipStream _inner;
    private readonly Crc32 _crc = new();
    private readonly uint _expectedCrc;
    private readonly uint _expectedLength;
    private long _length;
    private bool _checked;

    public CheckedGzipStream(FileStream file, string path)
    {
        long size = file.Length;
        if (size < MinimumGzipLength)
        {
            file.Dispose();
            throw new XmcDataException(path, 1, 1, $"the file is {size} bytes, too short for gzip data (truncated?)", "Fetch the file again");
        }
        Span<byte> trailer = stackalloc byte[8];
        file.Seek(-8, SeekOrigin.End);
        file.ReadExactly(trailer);
        file.Seek(0, SeekOrigin.Begin);
        _expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        _expectedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        _inner = new GZipStream(file, CompressionMode.Decompress);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = _inner.Read(buffer);
        if (n > 0)
        {
            _crc.Append(buffer[..n]);
            _length += n;
        }
        else if (buffer.Length > 0 && !_checked)
        {
            _checked = true;
            uint crc = _crc.GetCurrentHashAsUInt32();
            if (crc != _expectedCrc || (uint)_length != _expectedLength)
                throw new InvalidDataException(
                    $"the gzip data ends early or is damaged: its trailer records {_expectedLength} bytes with CRC-32 {_expectedCrc:x8}, "
                    + $"{_length} bytes with CRC-32 {crc:x8} were decompressed; a file of several concatenated gzip members must be recompressed as one");
        }
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _inner.Dispose();
        base.Dispose(disposing);
    }
}
