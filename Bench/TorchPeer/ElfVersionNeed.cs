using System.Buffers.Binary;
using System.Text;

namespace Xmc.Bench.TorchPeer;

/// <summary>
/// Reads and edits the symbol-version requirements (<c>.gnu.version_r</c>) of a little-endian ELF64 shared object.
/// <para>
/// Why Bench needs it: TorchSharp 0.107's shim <c>libLibTorchSharp.so</c> was built with GCC 13 and so records
/// that it needs <c>GLIBCXX_3.4.32</c> from <c>libstdc++.so.6</c>; Debian 12 ships GCC 12's libstdc++
/// (<c>GLIBCXX_3.4.30</c>) and the dynamic loader refuses the shim before any code runs. The only symbol bound to
/// that version is <c>std::ios_base_library_init()</c>, which GCC 13's <c>&lt;iostream&gt;</c> references from
/// every translation unit purely to pull in a libstdc++ that initialises the standard streams itself; it is never
/// called. Marking the requirement <em>weak</em> (<c>VER_FLG_WEAK</c>) lets the loader accept the shim on the older
/// libstdc++ — glibc treats a missing weak version as a warning — while every symbol that is actually called still
/// resolves against a version the system library has. The streams are initialised by libtorch itself (built with an
/// older GCC, its translation units construct <c>std::ios_base::Init</c>).
/// </para>
/// </summary>
public static class ElfVersionNeed
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const uint ShtDynsym = 11;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>One version requirement: the library it is needed from, the version name, its flags, and the
    /// dynamic symbols bound to it.</summary>
    public sealed record Requirement(string Library, string Version, ushort Flags, int FlagsOffset, IReadOnlyList<string> Symbols);

    /// <summary>All version requirements of the ELF64 file in <paramref name="image"/>.</summary>
    /// <exception cref="InvalidDataException">Not a little-endian ELF64 file, or a section lies outside it.</exception>
    public static IReadOnlyList<Requirement> Read(ReadOnlySpan<byte> image)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }
        if (image[4] != 2 || image[5] != 1)
        {
            throw new InvalidDataException("only little-endian ELF64 files are supported");
        }
        ulong sectionTable = U64(image, 0x28);
        int entrySize = U16(image, 0x3A), count = U16(image, 0x3C);
        var sections = new List<(uint Type, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize)>(count);
        for (int i = 0; i < count; i++)
        {
            int at = Checked(image, sectionTable + (ulong)(i * entrySize), 64);
            sections.Add((U32(image, at + 4), U64(image, at + 24), U64(image, at + 32), U32(image, at + 40), U32(image, at + 44), U64(image, at + 56)));
        }

        var need = sections.FirstOrDefault(s => s.Type == ShtGnuVerneed);
        if (need.Type == 0)
        {
            return [];
        }
        var strings = sections[(int)need.Link];

        // version index → symbol names, from .dynsym and its parallel .gnu.version array
        var byIndex = new Dictionary<int, List<string>>();
        var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
        var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        if (dynsym.Type != 0 && versym.Type != 0)
        {
            var symbolStrings = sections[(int)dynsym.Link];
            int symbols = (int)(dynsym.Size / dynsym.EntrySize);
            for (int i = 0; i < symbols; i++)
            {
                int index = U16(image, Checked(image, versym.Offset + (ulong)(2 * i), 2)) & 0x7fff;
                int at = Checked(image, dynsym.Offset + (ulong)i * dynsym.EntrySize, 24);
                string name = CString(image, symbolStrings.Offset, U32(image, at));
                if (!byIndex.TryGetValue(index, out var list))
                {
                    byIndex[index] = list = [];
                }
                list.Add(name);
            }
        }

        var result = new List<Requirement>();
        ulong entry = need.Offset;
        for (uint n = 0; n < need.Info; n++)
        {
            int at = Checked(image, entry, 16);
            int auxCount = U16(image, at + 2);
            string library = CString(image, strings.Offset, U32(image, at + 4));
            ulong aux = entry + U32(image, at + 8);
            for (int a = 0; a < auxCount; a++)
            {
                int auxAt = Checked(image, aux, 16);
                ushort flags = U16(image, auxAt + 4);
                int versionIndex = U16(image, auxAt + 6) & 0x7fff;
                string version = CString(image, strings.Offset, U32(image, auxAt + 8));
                result.Add(new Requirement(library, version, flags, auxAt + 4,
                    byIndex.TryGetValue(versionIndex, out var names) ? names : []));
                aux += U32(image, auxAt + 12);
            }
            entry += U32(image, at + 12);
        }
        return result;
    }

    /// <summary>
    /// Marks the requirement of <paramref name="version"/> from <paramref name="library"/> weak in the file at
    /// <paramref name="path"/>, provided the only symbols bound to it are <paramref name="allowedSymbols"/> (so no
    /// called function can be left unresolved). The file is rewritten atomically (temporary file, then rename).
    /// Returns false when the file has no such requirement or it is already weak.
    /// </summary>
    /// <exception cref="InvalidOperationException">Other symbols are bound to that version.</exception>
    public static bool MakeWeak(string path, string library, string version, IReadOnlyCollection<string> allowedSymbols)
    {
        byte[] image = File.ReadAllBytes(path);
        var requirement = Read(image).FirstOrDefault(r => r.Library == library && r.Version == version);
        if (requirement is null || (requirement.Flags & VerFlagWeak) != 0)
        {
            return false;
        }
        var others = requirement.Symbols.Where(s => !allowedSymbols.Contains(s)).ToList();
        if (others.Count > 0)
        {
            throw new InvalidOperationException(
                $"{path}: {version} from {library} binds {string.Join(", ", others)}, which the process would call; "
                + "marking it weak would leave them unresolved. Install a libstdc++ that provides " + version + " instead.");
        }
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(requirement.FlagsOffset), (ushort)(requirement.Flags | VerFlagWeak));
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, image);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
        }
        File.Move(temporary, path, overwrite: true);
        return true;
    }

    private static int Checked(ReadOnlySpan<byte> image, ulong offset, int length)
    {
        if (offset > (ulong)(image.Length - length))
        {
            throw new InvalidDataException($"ELF structure at offset {offset} lies outside the {image.Length}-byte file");
        }
        return (int)offset;
    }

    private static string CString(ReadOnlySpan<byte> image, ulong table, uint offset)
    {
        int start = Checked(image, table + offset, 1);
        int end = image[start..].IndexOf((byte)0);
        if (end < 0)
        {
            throw new InvalidDataException($"unterminated string at offset {start}");
        }
        return Encoding.ASCII.GetString(image.Slice(start, end));
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);

    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);

    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);
}
