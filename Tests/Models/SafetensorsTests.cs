using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models.IO;

namespace Xmc.Tests.Models;

public class SafetensorsTests
{
    /// <summary>Bytes of a safetensors file: LE header length, the header text as given, then the data.</summary>
    private static byte[] FileBytes(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void Writer_output_is_byte_exact_for_a_small_file()
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("small.safetensors");
        SafetensorsWriter.Write(path,
        [
            new SafetensorsRawTensor("w", SafetensorsDType.F32, [2], Floats(1f, -2f)),
            new SafetensorsRawTensor("h", SafetensorsDType.F16, [1], new byte[] { 0x00, 0x3C }),
            new SafetensorsRawTensor("i", SafetensorsDType.I64, [], BitConverter.GetBytes(7L)),
        ], new Dictionary<string, string> { ["format"] = "pt" });

        // Largest elements first, then by name; compact JSON, metadata first, padded with spaces to 8 bytes.
        const string json = "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"i\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
            + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
            + "\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[16,18]}}";
        var padded = json + new string(' ', (8 - json.Length % 8) % 8);
        var data = BitConverter.GetBytes(7L).Concat(Floats(1f, -2f)).Concat(new byte[] { 0x00, 0x3C }).ToArray();
        Assert.Equal(0, padded.Length % 8);
        Assert.Equal(FileBytes(padded, data), File.ReadAllBytes(path));
    }

    [Fact]
    public void Reader_accepts_a_hand_built_file_with_any_key_order_and_whitespace()
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("hand.safetensors");
        // JSON order differs from data order; keys inside entries are reordered; no padding.
        const string header = "{ \"b\": {\"data_offsets\": [8, 12], \"shape\": [2], \"dtype\": \"BF16\"},\n"
            + "  \"a\": {\"dtype\": \"F16\", \"shape\": [2, 2], \"data_offsets\": [0, 8]},\n"
            + "  \"e\": {\"dtype\": \"F32\", \"shape\": [0, 3], \"data_offsets\": [12, 12]},\n"
            + "  \"n\": {\"dtype\": \"I64\", \"shape\": [3], \"data_offsets\": [12, 36]},\n"
            + "  \"__metadata__\": {\"note\": \"ü\"} }";
        var half = new Half[] { (Half)1.5f, (Half)(-0.25f), Half.MaxValue, BitConverter.UInt16BitsToHalf(0x0001) };
        var data = half.SelectMany(h => BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(h)))
            .Concat(new byte[] { 0x80, 0x3F, 0x00, 0xC0 }) // bf16 1.0, -2.0
            .Concat(new long[] { -5, 0, int.MaxValue }.SelectMany(BitConverter.GetBytes))
            .ToArray();
        File.WriteAllBytes(path, FileBytes(header, data));

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["a", "b", "e", "n"], file.Names.Order(StringComparer.Ordinal));
        Assert.Equal("ü", file.Metadata["note"]);
        using var a = file.Load("a");
        Assert.Equal(DType.Float32, a.DType);
        Assert.Equal(new Shape(2, 2), a.Shape);
        Assert.Equal(new[] { 1.5f, -0.25f, 65504f, 5.9604645e-8f }, a.ToArray<float>());
        using var b = file.Load("b", DType.Float32);
        Assert.Equal(new[] { 1f, -2f }, b.ToArray<float>());
        using var e = file.Load("e");
        Assert.Equal(new Shape(0, 3), e.Shape);
        using var n = file.Load("n");
        Assert.Equal(new[] { -5, 0, int.MaxValue }, n.ToArray<int>());
    }

    private static readonly SafetensorsDType[] AllDTypes = Enum.GetValues<SafetensorsDType>();

    /// <summary>Random values of a dtype as bytes, plus what loading them with the default target must give.</summary>
    private static (byte[] Bytes, Array Expected) RandomData(SafetensorsDType dtype, int n, Random r)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                var f = Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 200 - 100)).ToArray();
                return (f.SelectMany(BitConverter.GetBytes).ToArray(), f);
            case SafetensorsDType.BF16:
                var bf = Enumerable.Range(0, n).Select(_ => BFloat16.FromBits((ushort)r.Next(0, 0x7F80))).ToArray();
                return (bf.SelectMany(v => BitConverter.GetBytes(v.Bits)).ToArray(), bf);
            case SafetensorsDType.F16:
                var bits = Enumerable.Range(0, n).Select(_ => (ushort)(r.Next(0, 0x7C00) | (r.Next(2) << 15))).ToArray();
                return (bits.SelectMany(BitConverter.GetBytes).ToArray(), bits.Select(b => (float)BitConverter.UInt16BitsToHalf(b)).ToArray());
            case SafetensorsDType.I32:
                var i = Enumerable.Range(0, n).Select(_ => r.Next(int.MinValue, int.MaxValue)).ToArray();
                return (i.SelectMany(BitConverter.GetBytes).ToArray(), i);
            case SafetensorsDType.I64:
                var l = Enumerable.Range(0, n).Select(_ => (long)r.Next(int.MinValue, int.MaxValue)).ToArray();
                return (l.SelectMany(BitConverter.GetBytes).ToArray(), l.Select(v => (int)v).ToArray());
            case SafetensorsDType.F8_E4M3:
                var e = Enumerable.Range(0, n).Select(_ => Float8E4M3.FromBits((byte)(r.Next(0, 0x7F) | (r.Next(2) << 7)))).ToArray();
                return (e.Select(v => v.Bits).ToArray(), e);
            default:
                var u = Enumerable.Range(0, n).Select(_ => (ushort)r.Next(0, 65536)).ToArray();
                return (u.SelectMany(BitConverter.GetBytes).ToArray(), u);
        }
    }

    private static Array ReadBack(Tensor t) => t.DType switch
    {
        DType.Float32 => t.ToArray<float>(),
        DType.BFloat16 => t.ToArray<BFloat16>(),
        DType.Int32 => t.ToArray<int>(),
        DType.Float8E4M3 => t.ToArray<Float8E4M3>(),
        _ => t.ToArray<ushort>(),
    };

    [Property(MaxTest = 30)]
    public bool Raw_tensors_of_every_dtype_round_trip(int seed, byte countByte)
    {
        var r = new Random(seed);
        int count = countByte % 5;
        var tensors = new List<(SafetensorsRawTensor Raw, Array Expected)>();
        for (int k = 0; k < count; k++)
        {
            var dtype = AllDTypes[r.Next(AllDTypes.Length)];
            var shape = Enumerable.Range(0, r.Next(0, 4)).Select(_ => (long)r.Next(0, 5)).ToArray();
            int n = (int)shape.Aggregate(1L, (a, d) => a * d);
            var (bytes, expected) = RandomData(dtype, n, r);
            tensors.Add((new SafetensorsRawTensor($"t{k}.{dtype}", dtype, shape, bytes), expected));
        }
        var metadata = Enumerable.Range(0, r.Next(0, 3)).ToDictionary(i => $"key{i}", i => $"value \"{i}\" é");
        using var dir = new TemporaryDirectory();
        var path = dir.File("rt.safetensors");
        SafetensorsWriter.Write(path, tensors.Select(t => t.Raw), metadata);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(tensors.Select(t => t.Raw.Name).Order(StringComparer.Ordinal), file.Names.Order(StringComparer.Ordinal));
        foreach (var (raw, expected) in tensors)
        {
            var entry = file.Entry(raw.Name);
            Assert.Equal(raw.DType, entry.DType);
            Assert.Equal(raw.Shape, entry.Shape);
            Assert.Equal(0, entry.Begin % raw.DType.SizeOf()); // the layout keeps every tensor aligned
            using var t = file.Load(raw.Name);
            Assert.Equal(raw.Shape.Select(d => (int)d).ToArray(), t.Shape.ToArray());
            Assert.Equal(expected, ReadBack(t));
        }
        return true;
    }

    [Fact]
    public void Engine_tensors_round_trip_and_narrow_or_widen_on_request()
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("engine.safetensors");
        var floats = new[] { 1f, -2.5f, 3.14159f, 1e-3f, 7f, 0f };
        using var f = Tensor.FromArray(floats, new Shape(2, 3));
        using var b = Tensor.FromArray(new[] { (BFloat16)1.5f, (BFloat16)(-3f) }, new Shape(2));
        using var i = Tensor.FromArray(new[] { 4, -1, 70000 }, new Shape(3, 1));
        using var u = Tensor.FromArray(new ushort[] { 0, 65535 }, new Shape(1, 2));
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["f"] = f, ["b"] = b, ["i"] = i, ["u"] = u });

        using var file = SafetensorsFile.Open(path);
        using (var f2 = file.Load("f")) Assert.Equal(floats, f2.ToArray<float>());
        using (var b2 = file.Load("b")) Assert.Equal(b.ToArray<BFloat16>(), b2.ToArray<BFloat16>());
        using (var i2 = file.Load("i")) Assert.Equal(new[] { 4, -1, 70000 }, i2.ToArray<int>());
        using (var u2 = file.Load("u")) Assert.Equal(new ushort[] { 0, 65535 }, u2.ToArray<ushort>());
        using (var fb = file.Load("f", DType.BFloat16))
        {
            var expected = new BFloat16[floats.Length];
            BFloat16.FromSingles(floats, expected);
            Assert.Equal(expected, fb.ToArray<BFloat16>());
        }
        using (var bf = file.Load("b", DType.Float32)) Assert.Equal(new[] { 1.5f, -3f }, bf.ToArray<float>());
        using (var ui = file.Load("u", DType.Int32)) Assert.Equal(new[] { 0, 65535 }, ui.ToArray<int>());
        var narrow = Assert.Throws<SafetensorsFormatException>(() => file.Load("i", DType.UInt16));
        Assert.Contains("element 1", narrow.Message); // -1 does not fit
        var kind = Assert.Throws<SafetensorsFormatException>(() => file.Load("f", DType.Int32));
        Assert.Contains("'f'", kind.Message);
        var missing = Assert.Throws<KeyNotFoundException>(() => file.Load("nope"));
        Assert.Contains(path, missing.Message);
    }

    [Fact]
    public void I64_values_beyond_int32_are_an_error_naming_tensor_and_element()
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("big.safetensors");
        SafetensorsWriter.Write(path, [new SafetensorsRawTensor("ids", SafetensorsDType.I64, [3], new long[] { 1, 2, 1L << 40 }.SelectMany(BitConverter.GetBytes).ToArray())]);
        using var file = SafetensorsFile.Open(path);
        var ex = Assert.Throws<SafetensorsFormatException>(() => file.Load("ids"));
        Assert.Equal("ids", ex.TensorName);
        Assert.Contains("element 2", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    public static TheoryData<string, string, int, string?, string> Corruptions() => new()
    {
        // header text, data length, tensor the error must name (null: the file), words the message must contain
        { "bad json", "{\"a\":{\"dtype\":\"F32\",", 0, null, "not valid JSON" },
        { "not an object", "[1,2]", 0, null, "does not start with '{'" },
        { "garbage after", "{} x", 0, null, "other than space padding" },
        { "unknown dtype", "{\"a\":{\"dtype\":\"F8_E5M2\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "a", "unknown or unsupported dtype 'F8_E5M2'" },
        { "size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12, "a", "is 16 bytes but" },
        { "beyond buffer", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "a", "past the end of the 4-byte data buffer" },
        { "reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, "a", "reversed" },
        { "overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "b", "overlap tensor 'a'" },
        { "hole", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "b", "bytes [4,8)" },
        { "uncovered tail", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 9, null, "bytes [4,9)" },
        { "duplicate", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "a", "appears twice" },
        { "negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, "a", "'shape'[0] is -1" },
        { "fractional offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", 4, "a", "'data_offsets'[1] is 4.5" },
        { "three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "a", "3 numbers" },
        { "missing dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "a", "'dtype' is missing" },
        { "overflowing shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, "a", "overflows" },
        { "metadata not strings", "{\"__metadata__\":{\"k\":1}}", 0, null, "not a string" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Corrupt_header_gives_a_clear_error_naming_file_and_tensor(string label, string header, int dataLength, string? tensor, string words)
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File(label.Replace(' ', '-') + ".safetensors");
        File.WriteAllBytes(path, FileBytes(header, new byte[dataLength]));
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, ex.Message);
        Assert.Equal(tensor, ex.TensorName);
        if (tensor is not null)
        {
            Assert.Contains($"tensor '{tensor}'", ex.Message);
        }
        Assert.Contains(words, ex.Message);
    }

    [Theory]
    [InlineData(0L, 3, "fewer than the 8-byte")]
    [InlineData(100L, 20, "beyond the end of the file")]
    [InlineData(200_000_000L, 8, "exceeds the 100000000-byte limit")]
    public void Bad_header_length_gives_a_clear_error(long headerLength, int fileLength, string words)
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("len.safetensors");
        var bytes = new byte[fileLength];
        if (fileLength >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerLength);
        }
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, ex.Message);
        Assert.Contains(words, ex.Message);
    }

    [Fact]
    public void Header_that_is_not_utf8_gives_a_clear_error()
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("latin1.safetensors");
        var bytes = FileBytes("{\"caf\u00e9\":1}", []);
        bytes[8 + 5] = 0xE9; // a lone Latin-1 byte where UTF-8 needs a sequence
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains("not valid UTF-8", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    // Fuzzing: any damage to the header bytes either still parses into a valid file or gives the format error;
    // never another exception type, never a read outside the file.
    [Property(MaxTest = 200)]
    public bool Damaged_headers_give_only_format_errors(int seed)
    {
        var r = new Random(seed);
        var header = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[8,16]}}";
        var bytes = FileBytes(header, new byte[16]);
        int edits = r.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int at = r.Next(0, bytes.Length - 16);
            bytes[at] = r.Next(3) switch { 0 => (byte)r.Next(256), 1 => (byte)"{}[],:\"0123456789-"[r.Next(18)], _ => (byte)' ' };
        }
        if (r.Next(4) == 0)
        {
            bytes = bytes[..r.Next(0, bytes.Length)];
        }
        using var dir = new TemporaryDirectory();
        var path = dir.File("fuzz.safetensors");
        File.WriteAllBytes(path, bytes);
        try
        {
            using var file = SafetensorsFile.Open(path);
            foreach (var name in file.Names)
            {
                try
                {
                    file.Load(name).Dispose();
                }
                catch (SafetensorsFormatException ex) when (ex.TensorName == name)
                {
                }
            }
        }
        catch (SafetensorsFormatException ex)
        {
            Assert.Contains(path, ex.Message);
        }
        return true;
    }

    [Fact]
    public void Writing_replaces_the_target_atomically_and_leaves_no_temporary_file()
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("model.safetensors");
        File.WriteAllText(path, "old");
        using var t = Tensor.FromArray(new[] { 1f, 2f }, new Shape(2));
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = t });
        Assert.Equal([path], Directory.GetFiles(dir.Path));
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal(["x"], file.Names);
        }

        // A failing write leaves the previous file as it was and no temporary file behind.
        var before = File.ReadAllBytes(path);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = t }));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path,
            [new SafetensorsRawTensor("a", SafetensorsDType.F32, [2], new byte[4])]));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }
}
