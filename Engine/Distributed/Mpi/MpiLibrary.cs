using System.Reflection;
using System.Runtime.InteropServices;

namespace Xmc.Engine.Distributed.Mpi;

/// <summary>Finds and loads Open MPI's <c>libmpi.so.40</c> (Debian <c>libopenmpi3</c>, pulled in by
/// <c>openmpi-bin</c>), or the file named by <c>XMC_MPI_LIB</c>, and resolves the handles Open MPI exports as global
/// objects: in its ABI an <c>MPI_Comm</c>, <c>MPI_Datatype</c> or <c>MPI_Errhandler</c> is the address of a symbol
/// (<c>MPI_COMM_WORLD</c> = <c>&amp;ompi_mpi_comm_world</c>). MPICH's ABI (integer handles) is not supported.
/// <para>The library is opened with <c>RTLD_GLOBAL</c>: Open MPI's plugins (its MCA components, themselves
/// <c>dlopen</c>ed) look up symbols of libmpi and libopen-pal in the global scope, which a local load hides.</para></summary>
internal static partial class MpiLibrary
{
    /// <summary>The name the <see cref="LibraryImportAttribute"/> declarations use; the resolver maps it.</summary>
    internal const string Import = "xmc-libmpi";

    /// <summary>The environment variable naming the library file to load instead of the search.</summary>
    public const string PathVariable = "XMC_MPI_LIB";

    private static readonly string[] Candidates = ["libmpi.so.40"];
    private static readonly Lock Gate = new();
    private static nint _handle;
    private static string? _failure;
    private static bool _resolverInstalled;

    /// <summary>Installs the resolver for <see cref="Import"/> on this assembly (once).</summary>
    internal static void InstallResolver()
    {
        lock (Gate)
        {
            if (_resolverInstalled)
            {
                return;
            }
            NativeLibrary.SetDllImportResolver(typeof(MpiLibrary).Assembly, Resolve);
            _resolverInstalled = true;
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name == Import ? Handle : 0;

    /// <summary>The loaded library. Throws a <see cref="CommunicationException"/> naming every place searched when
    /// it cannot be loaded.</summary>
    internal static nint Handle
    {
        get
        {
            lock (Gate)
            {
                if (_handle != 0)
                {
                    return _handle;
                }
                if (_failure is not null)
                {
                    throw new CommunicationException(_failure);
                }
                var tried = new List<string>();
                var given = Environment.GetEnvironmentVariable(PathVariable);
                foreach (var candidate in string.IsNullOrEmpty(given) ? Candidates : [given])
                {
                    nint h = dlopen(candidate, RtldNow | RtldGlobal);
                    if (h != 0)
                    {
                        return _handle = h;
                    }
                    tried.Add($"{candidate} ({Marshal.PtrToStringUTF8(dlerror()) ?? "not found"})");
                }
                _failure = $"MPI is not available: could not load Open MPI's library; tried {string.Join(", ", tried)}. " +
                    $"Install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) or set {PathVariable} to the path of libmpi.so.40";
                throw new CommunicationException(_failure);
            }
        }
    }

    /// <summary>The address of the exported global object <paramref name="symbol"/> (an Open MPI handle).</summary>
    internal static nint Object(string symbol)
    {
        if (!NativeLibrary.TryGetExport(Handle, symbol, out var address))
        {
            throw new CommunicationException($"the MPI library does not export {symbol}: it is not Open MPI (only Open MPI's ABI is supported; set {PathVariable} to Open MPI's libmpi.so.40)");
        }
        return address;
    }

    private const int RtldNow = 2;
    private const int RtldGlobal = 0x100;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlopen(string file, int mode);

    [LibraryImport("libc")]
    private static partial nint dlerror();
}
