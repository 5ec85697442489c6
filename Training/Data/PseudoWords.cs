namespace Xmc.Training.Data;

/// <summary>
/// Pronounceable made-up words, one per vocabulary id: the id written in base 100 with consonant-vowel
/// syllables as digits (at least two syllables). Distinct ids give distinct words, and every syllable has two
/// letters, so a word spells back to exactly one id.
/// </summary>
public static class PseudoWords
{
    private const string Consonants = "bdfghjklmnprstvwzcxq";
    private const string Vowels = "aeiou";
    private const int Base = 100;

    /// <summary>The word of vocabulary id <paramref name="id"/> (≥ 0).</summary>
    public static string Word(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        Span<char> letters = stackalloc char[16];
        int n = 0;
        int rest = id;
        do
        {
            int syllable = rest % Base;
            rest /= Base;
            letters[n++] = Vowels[syllable % 5];
            letters[n++] = Consonants[syllable / 5];
        } while (rest > 0 || n < 4);
        letters[..n].Reverse();
        return new string(letters[..n]);
    }
}
