namespace Xmc.Engine;

/// <summary>Argument checks shared by the ops; every message names the op and the shapes involved.</summary>
internal static class Check
{
    public static void Live(string op, Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.IsDisposed)
        {
            throw new ObjectDisposedException($"Tensor{t.Shape}", $"{op}: input tensor {t.Shape} ({t.DType}) was used after it was disposed");
        }
    }

    public static void Float32(string op, Tensor t)
    {
        Live(op, t);
        if (t.DType != DType.Float32)
        {
            throw new ArgumentException($"{op}: expected a Float32 tensor, got {t.DType} {t.Shape}");
        }
    }

    public static void Dtype(string op, Tensor t, DType expected, string what)
    {
        Live(op, t);
        if (t.DType != expected)
        {
            throw new ArgumentException($"{op}: {what} must be {expected}, got {t.DType} {t.Shape}");
        }
    }

    public static void SameDevice(string op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device)
        {
            throw DeviceMismatch(op, a.Shape, a.Device, b.Shape, b.Device);
        }
    }

    public static ArgumentException DeviceMismatch(string op, Shape a, Device aDevice, Shape b, Device bDevice)
        => new($"{op}: device mismatch: {a} is on {aDevice}, {b} is on {bDevice}");

    public static void Rank(string op, Tensor t, int min, int max = int.MaxValue)
    {
        if (t.Shape.Rank < min || t.Shape.Rank > max)
        {
            string want = max == int.MaxValue ? $"rank ≥ {min}" : min == max ? $"rank {min}" : $"rank {min}..{max}";
            throw new ArgumentException($"{op}: expected {want}, got shape {t.Shape}");
        }
    }

    public static ArgumentException ShapeMismatch(string op, Shape a, Shape b, string? detail = null)
        => new($"{op}: shape mismatch: {a} and {b}{(detail is null ? "" : " (" + detail + ")")}");
}
