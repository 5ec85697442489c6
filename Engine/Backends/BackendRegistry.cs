namespace Xmc.Engine.Backends;

/// <summary>Finds the backend of a device. The CPU backend is built in; the CUDA assembly registers its factory
/// when it is loaded (<see cref="Register"/>).</summary>
public static class BackendRegistry
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<Device, IBackend> Backends = new();
    private static Func<int, IBackend>? _cudaFactory;

    /// <summary>Installs the factory that creates the backend of CUDA device N.</summary>
    public static void Register(DeviceKind kind, Func<int, IBackend> factory)
    {
        if (kind != DeviceKind.Cuda)
        {
            throw new ArgumentException("only CUDA backends are registered; the CPU one is built in", nameof(kind));
        }
        lock (Gate)
        {
            _cudaFactory = factory;
        }
    }

    /// <summary>The backend of <paramref name="device"/>, created on first use.</summary>
    public static IBackend For(Device device)
    {
        if (device.Kind == DeviceKind.Cpu)
        {
            return CpuBackend.Instance;
        }
        lock (Gate)
        {
            if (Backends.TryGetValue(device, out var b))
            {
                return b;
            }
            if (_cudaFactory is null)
            {
                throw new InvalidOperationException(
                    $"device {device} was asked for but no CUDA backend is loaded: reference Xmc.Engine.Cuda and call CudaBackend.Register(), or use --device cpu");
            }
            b = _cudaFactory(device.Index);
            Backends[device] = b;
            return b;
        }
    }
}
