using System.Globalization;
using System.Text;

namespace Xmc.Models.Text;

/// <summary>Removes accents the way BERT's uncased tokenizer does: canonical decomposition (NFD), then every
/// nonspacing mark dropped. Works without ICU (the engine runs with invariant globalization, where
/// <see cref="string.Normalize()"/> is unavailable): decompositions come from a generated table, Hangul
/// syllables are decomposed arithmetically into their jamo as NFD does.</summary>
internal static partial class AccentStripping
{
    private const int HangulFirst = 0xAC00, HangulLast = 0xD7A3;
    private const int LeadFirst = 0x1100, VowelFirst = 0x1161, TrailBase = 0x11A7;
    private const int VowelCount = 21, TrailCount = 28;

    /// <summary>What is left of <paramref name="r"/> after decomposition without nonspacing marks ("" for a
    /// mark itself).</summary>
    public static string Strip(Rune r)
    {
        if (r.Value >= HangulFirst && r.Value <= HangulLast)
        {
            int s = r.Value - HangulFirst;
            var jamo = new StringBuilder(3);
            jamo.Append((char)(LeadFirst + s / (VowelCount * TrailCount)));
            jamo.Append((char)(VowelFirst + s % (VowelCount * TrailCount) / TrailCount));
            if (s % TrailCount != 0)
            {
                jamo.Append((char)(TrailBase + s % TrailCount));
            }
            return jamo.ToString();
        }
        int at = Array.BinarySearch(DecomposedKeys, r.Value);
        if (at >= 0)
        {
            return DecomposedValues[at];
        }
        return Rune.GetUnicodeCategory(r) == UnicodeCategory.NonSpacingMark ? "" : r.ToString();
    }
}
