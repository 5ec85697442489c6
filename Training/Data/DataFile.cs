using Xmc.Models.IO;
using System.IO.Compression;
using System.Text;

namespace Xmc.Training.Data;

/// <summary>Opens data files for the text parsers and writers; a name ending in <c>.gz</c> is gzip-compressed.</summary>
internal static class DataFile
{
    public static TextReader OpenText(string path)
    {
        Stream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new XmcDataException(path, "file not found", "Check the path (relative paths start at the working directory).", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new XmcDataException(path, "permission denied", "Make the file readable.", e);
        }
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            stream = new GZipStream(stream, CompressionMode.Decompress);
        return new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true, 1 << 16);
    }

    public static void WriteText(string path, Action<TextWriter> write)
        => WriteStream(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            write(writer);
        });

    /// <summary>Writes atomically, through gzip when the name ends in <c>.gz</c>.</summary>
    public static void WriteStream(string path, Action<Stream> write)
        => AtomicFile.Write(path, file =>
        {
            if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            {
                write(file);
                return;
            }
            using var zip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true);
            write(zip);
        });
}
