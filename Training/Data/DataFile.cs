using Xmc.Models.IO;
using System.IO.Compression;
using System.Text;

namespace Xmc.Training.Data;

/// <summary>Opens data files for the text parsers and writers; a name ending in <c>.gz</c> is gzip-compressed.</summary>
internal static class DataFile
{
    public static TextReader OpenText(string path)
    {
        Stream stream = OpenRead(path, 1 << 16);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            stream = new CheckedGzipStream((FileStream)stream, path);
        return new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true, 1 << 16);
    }

    /// <summary>Opens a data file for reading. A file that is missing, unreadable, a folder, empty, or not a regular
    /// file (a FIFO, pipe or device, whose size reads 0: opening one could wait for a writer forever) is an
    /// <see cref="XmcDataException"/> naming it, before anything is opened.</summary>
    public static FileStream OpenRead(string path, int bufferSize)
    {
        FileInfo info;
        try
        {
            info = new FileInfo(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new XmcDataException(path, "not a usable file path", "Check the path", e);
        }
        if (Directory.Exists(path))
            throw new XmcDataException(path, "this is a folder, not a data file", "Give the data file inside it");
        if (!info.Exists)
            throw new XmcDataException(path, "file not found", "Check the path (relative paths start at the working directory)");
        if (info.Length == 0)
            throw new XmcDataException(path, "the file is empty, or not a regular file (a FIFO, pipe or device cannot be read as data)",
                "Give a data file with its content (write a pipe's output to a file first)");
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new XmcDataException(path, "file not found", "Check the path (relative paths start at the working directory)", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new XmcDataException(path, "permission denied", "Make the file readable", e);
        }
        catch (IOException e)
        {
            throw new XmcDataException(path, $"cannot open the file ({e.Message})", "Check the file", e);
        }
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
