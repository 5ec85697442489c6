namespace Xmc.Models.IO;

/// <summary>A safetensors file that breaks the format, or a tensor that cannot be loaded as asked. The message
/// names the file and, where one is at fault, the tensor.</summary>
public sealed class SafetensorsFormatException : Exception
{
    /// <summary>Creates the exception; the message is "safetensors 'file': tensor 'name': detail".</summary>
    public SafetensorsFormatException(string source, string? tensorName, string detail)
        : base($"safetensors '{source}': {(tensorName is null ? "" : $"tensor '{tensorName}': ")}{detail}")
    {
        FilePath = source;
        TensorName = tensorName;
        Detail = detail;
    }

    /// <summary>The file (or other source) that was being read.</summary>
    public string FilePath { get; }

    /// <summary>The tensor at fault, or null when the problem is the file as a whole.</summary>
    public string? TensorName { get; }

    /// <summary>What is wrong, without the file and tensor names.</summary>
    public string Detail { get; }
}
