namespace Xmc.Models.IO;

/// <summary>The element types of a safetensors file that XmcEngine reads and writes.</summary>
public enum SafetensorsDType
{
    /// <summary>IEEE float32.</summary>
    F32,
    /// <summary>bfloat16 (upper half of a float32).</summary>
    BF16,
    /// <summary>IEEE float16.</summary>
    F16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>OCP FP8 E4M3 (finite-only), the format's "F8_E4M3".</summary>
    F8_E4M3,
}

/// <summary>Names and sizes of <see cref="SafetensorsDType"/> values as the format spells them.</summary>
public static class SafetensorsDTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.BF16 or SafetensorsDType.F16 or SafetensorsDType.U16 => 2,
        SafetensorsDType.I64 => 8,
        SafetensorsDType.F8_E4M3 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>The name used in the header ("F32", "BF16", …).</summary>
    public static string HeaderName(this SafetensorsDType dtype) => dtype.ToString();

    /// <summary>Parses a header dtype name; false for names this reader does not support.</summary>
    public static bool TryParse(string name, out SafetensorsDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = SafetensorsDType.F32; return true;
            case "BF16": dtype = SafetensorsDType.BF16; return true;
            case "F16": dtype = SafetensorsDType.F16; return true;
            case "I32": dtype = SafetensorsDType.I32; return true;
            case "I64": dtype = SafetensorsDType.I64; return true;
            case "U16": dtype = SafetensorsDType.U16; return true;
            case "F8_E4M3": dtype = SafetensorsDType.F8_E4M3; return true;
            default: dtype = default; return false;
        }
    }
}
