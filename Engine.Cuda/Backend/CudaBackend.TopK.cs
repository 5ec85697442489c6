namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void TopK(nint x, nint values, nint indices, long rows, long cols, int k)
    {
        if (k <= 0)
        {
            return;
        }
        LaunchLinear("topk.cu", "topk_rows_f32", rows, x, values, indices, rows, cols, k);
    }
}
