using System.Buffers;
using System.Text;

namespace Xmc.Training.Data;

/// <summary>
/// Hands out the lines of a JSON-lines file one at a time as UTF-8 bytes (for <c>Utf8JsonReader</c>), keeping
/// the line number. Blank lines are allowed only at the end of the file, since in a label file line i is label i.
/// </summary>
internal sealed class JsonLines(TextReader reader, string source) : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private long _firstBlankLine;

    /// <summary>1-based number of the line last returned.</summary>
    public long Line { get; private set; }

    public string Source => source;

    /// <summary>The next non-blank line, or false at the end of the file.</summary>
    public bool Next(out ReadOnlySpan<byte> json)
    {
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new XmcDataException(source, Line + 1, 1, $"cannot read the file ({e.Message})",
                    "The file may be truncated or damaged; fetch it again");
            }
            if (line is null)
            {
                json = default;
                return false;
            }
            Line++;
            if (line.AsSpan().IsWhiteSpace())
            {
                if (_firstBlankLine == 0)
                    _firstBlankLine = Line;
                continue;
            }
            if (_firstBlankLine != 0)
                throw new XmcDataException(source, _firstBlankLine, 1, "empty line inside the file",
                    "Remove it: every line must be one JSON object (line i of a label file is label i)");
            int needed = Encoding.UTF8.GetMaxByteCount(line.Length);
            if (needed > _buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(needed);
            }
            int n = Encoding.UTF8.GetBytes(line, _buffer);
            json = _buffer.AsSpan(0, n);
            return true;
        }
    }

    /// <summary>An error at a byte offset of the current line.</summary>
    public XmcDataException Error(long byteOffset, string reason)
        => new(source, Line, byteOffset + 1, reason, RawTextJsonlReader.FormatHint);

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
