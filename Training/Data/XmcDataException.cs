namespace Xmc.Training.Data;

/// <summary>
/// Bad input data. The message reads <c>file:line:column: reason. what to do</c> (line and column 1-based;
/// column counted in characters for text formats, in bytes for JSON lines), or <c>file: reason. what to do</c>
/// for a binary file or a file that cannot be opened.
/// </summary>
public sealed class XmcDataException : Exception
{
    /// <summary>The file (or stream name) the bad data came from.</summary>
    public string FileName { get; }

    /// <summary>1-based line of the error, or null where the file has no lines (binary cache).</summary>
    public long? Line { get; }

    /// <summary>1-based column of the error, or null where the file has no lines.</summary>
    public long? Column { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }

    /// <summary>Reports an error at a line and column of a text file.</summary>
    public XmcDataException(string source, long line, long column, string reason, string remedy)
        : base($"{source}:{line}:{column}: {reason}. {remedy}")
    {
        FileName = source;
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>Reports an error about a whole file (binary cache, missing file).</summary>
    public XmcDataException(string source, string reason, string remedy, Exception? inner = null)
        : base($"{source}: {reason}. {remedy}", inner)
    {
        FileName = source;
        Reason = reason;
    }
}
