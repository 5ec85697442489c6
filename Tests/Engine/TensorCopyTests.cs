using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class TensorCopyTests
{
    [Property(MaxTest = 50)]
    public bool Float_data_round_trips_through_CopyFrom_and_CopyTo(PositiveInt rowsP, PositiveInt colsP, int seed)
    {
        int rows = 1 + rowsP.Get % 7, cols = 1 + colsP.Get % 9;
        var data = RandomData.Floats(new System.Random(seed), rows * cols);
        using var t = Tensor.CreateUntracked(new Shape(rows, cols), DType.Float32, Device.Cpu, Xmc.Engine.Memory.MemoryCategory.Activations);
        t.CopyFrom<float>(data);
        var back = new float[data.Length];
        t.CopyTo<float>(back);
        return back.SequenceEqual(data) && t.ToArray<float>().SequenceEqual(data);
    }

    [Fact]
    public void Bits_of_an_equal_sized_type_copy_unchanged_into_bfloat16_and_int32()
    {
        using var scope = TensorScope.Begin();
        var bf = Tensor.Zeros(new Shape(3), DType.BFloat16);
        ushort[] bits = [0x3f80, 0xc000, 0x7fc0];
        bf.CopyFrom<ushort>(bits);
        Assert.Equal([1f, -2f], bf.ToFloatArray()[..2]);
        Assert.True(float.IsNaN(bf.ToFloatArray()[2]));

        var ints = Tensor.Zeros(new Shape(2), DType.Int32);
        ints.CopyFrom<float>([1f, -0f]);
        Assert.Equal([BitConverter.SingleToInt32Bits(1f), int.MinValue], ints.ToArray<int>());
    }

    [Fact]
    public void A_range_copy_writes_and_reads_only_its_elements()
    {
        using var scope = TensorScope.Begin();
        var t = Tensor.FromArray(new[] { 0, 1, 2, 3, 4, 5 });
        t.CopyFrom<int>([-2, -3], start: 2);
        Assert.Equal([0, 1, -2, -3, 4, 5], t.ToArray<int>());
        var tail = new int[3];
        t.CopyTo<int>(tail, start: 3);
        Assert.Equal([-3, 4, 5], tail);
    }

    [Fact]
    public void Raw_bytes_copy_whole_elements_in_chunks()
    {
        using var scope = TensorScope.Begin();
        float[] values = [1.5f, -2.25f, 3f];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        var t = Tensor.Zeros(new Shape(3));
        t.CopyFrom<byte>(bytes.AsSpan(0, 8), start: 0);
        t.CopyFrom<byte>(bytes.AsSpan(8), start: 8);
        Assert.Equal(values, t.ToArray<float>());
        var back = new byte[12];
        t.CopyTo<byte>(back);
        Assert.Equal(bytes, back);
        var ex = Assert.Throws<ArgumentException>(() => t.CopyFrom<byte>(bytes.AsSpan(0, 6), start: 2));
        Assert.Contains("whole elements", ex.Message);
    }

    [Fact]
    public void A_wrong_length_is_refused_naming_both_counts()
    {
        using var scope = TensorScope.Begin();
        var t = Tensor.Zeros(new Shape(2, 3));
        var ex = Assert.Throws<ArgumentException>(() => t.CopyFrom<float>(new float[5]));
        Assert.Contains("5 values", ex.Message);
        Assert.Contains("[2,3]", ex.Message);
        Assert.Throws<ArgumentException>(() => t.CopyTo<float>(new float[7]));
        Assert.Throws<ArgumentException>(() => t.CopyFrom<float>(new float[2], start: 5));
        Assert.Throws<ArgumentException>(() => t.CopyTo<float>(new float[1], start: -1));
        Assert.Equal(new float[6], t.ToArray<float>());
    }

    [Fact]
    public void A_type_of_another_size_than_the_dtype_is_refused()
    {
        using var scope = TensorScope.Begin();
        var bf = Tensor.Zeros(new Shape(4), DType.BFloat16);
        var ex = Assert.Throws<ArgumentException>(() => bf.CopyFrom<float>(new float[4]));
        Assert.Contains("BFloat16", ex.Message);
        Assert.Contains("Single", ex.Message);
        Assert.Throws<ArgumentException>(() => bf.CopyTo<int>(new int[2]));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(new Shape(2), DType.Int32).CopyFrom<long>(new long[1]));
    }

    [Fact]
    public void A_disposed_tensor_refuses_copies()
    {
        var t = Tensor.CreateUntracked(new Shape(2), DType.Float32, Device.Cpu, Xmc.Engine.Memory.MemoryCategory.Activations);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.CopyFrom<float>(new float[2]));
        Assert.Throws<ObjectDisposedException>(() => t.CopyTo<float>(new float[2]));
    }
}
