using Xmc.Engine;

namespace Xmc.Models;

/// <summary>A fixed fan-in layer whose input is two blocks side by side — [embedding | raw features], the "wide"
/// path of the bag-of-words model — keeps each row's first <see cref="RewiredFanIn"/> slots on the first
/// <see cref="RewiredInputs"/> inputs (the ones DST rewires) and its other slots on the inputs above them, fixed
/// once chosen from the data (<see cref="SetFixedInputs"/>). As the indices of a row ascend, the two groups never
/// mix: the rewired slots come first.</summary>
public sealed partial class FixedFanInLinear
{
    /// <summary>Slots per row that DST may rewire: <see cref="FanIn"/> unless <see cref="ConfineRewiring"/> set fewer.</summary>
    public int RewiredFanIn => _rewiredSlots > 0 ? _rewiredSlots : FanIn;

    /// <summary>The inputs the rewired slots read (and regrow into): [0, RewiredInputs).</summary>
    public int RewiredInputs => _rewiredSlots > 0 ? _rewiredInputs : InFeatures;

    private int _rewiredSlots, _rewiredInputs;

    /// <summary>True when some slots of every row are fixed inputs outside DST's reach.</summary>
    public bool HasFixedSlots => _rewiredSlots > 0;

    /// <summary>Redraws the layer as two groups of slots: the first <paramref name="slots"/> of every row on distinct
    /// random inputs below <paramref name="inputs"/> with values uniform in [−1/√slots, 1/√slots) — exactly as a layer
    /// of that fan-in over that width draws them from <paramref name="seed"/> — and the other FanIn − slots on the
    /// inputs <paramref name="inputs"/>, <paramref name="inputs"/> + 1, … with value 0, until
    /// <see cref="SetFixedInputs"/> chooses them. Bias is left as it is.</summary>
    public void ConfineRewiring(int slots, int inputs, ulong seed)
    {
        if (slots < 1 || slots >= FanIn || inputs < slots || InFeatures - inputs < FanIn - slots)
        {
            throw new ArgumentOutOfRangeException(nameof(slots), $"FixedFanInLinear: {slots} rewired slots over {inputs} inputs leave {FanIn - slots} fixed slots for the {InFeatures - inputs} inputs above them (need 1 ≤ slots < {FanIn}, slots ≤ inputs)");
        }
        int k = FanIn, fixedSlots = k - slots;
        var (drawnValues, drawnIndices) = Draw(seed, 0, slots, inputs);
        var values = new float[(long)Labels * k];
        var indices = new int[(long)Labels * k];
        for (int l = 0; l < Labels; l++)
        {
            Array.Copy(drawnValues, (long)l * slots, values, (long)l * k, slots);
            Array.Copy(drawnIndices, (long)l * slots, indices, (long)l * k, slots);
            for (int j = 0; j < fixedSlots; j++)
            {
                indices[(long)l * k + slots + j] = inputs + j;
            }
        }
        SetValues(values);
        SetIndices(indices);
        _rewiredSlots = slots;
        _rewiredInputs = inputs;
    }

    /// <summary>Sets every row's fixed slots (those above <see cref="RewiredFanIn"/>) to the inputs
    /// <paramref name="fixedInputs"/> (row-major [L, FanIn − RewiredFanIn], each row strictly ascending and at or above
    /// <see cref="RewiredInputs"/>) with value 0, leaving the rewired slots as they are.</summary>
    public void SetFixedInputs(int[] fixedInputs)
    {
        ArgumentNullException.ThrowIfNull(fixedInputs);
        if (!HasFixedSlots)
        {
            throw new InvalidOperationException("FixedFanInLinear.SetFixedInputs: the layer has no fixed slots (ConfineRewiring first)");
        }
        int k = FanIn, slots = RewiredFanIn, fixedSlots = k - slots;
        if (fixedInputs.LongLength != (long)Labels * fixedSlots)
        {
            throw new ArgumentException($"FixedFanInLinear.SetFixedInputs: {fixedInputs.LongLength} inputs for [{Labels},{fixedSlots}]", nameof(fixedInputs));
        }
        var indices = IndicesToHost();
        var values = Values.Data.DType == DType.Float32 ? Values.Data.ToArray<float>() : Values.Data.DType == DType.BFloat16
            ? Array.ConvertAll(Values.Data.ToArray<BFloat16>(), v => (float)v) : Array.ConvertAll(Values.Data.ToArray<Float8E4M3>(), v => (float)v);
        for (int l = 0; l < Labels; l++)
        {
            for (int j = 0; j < fixedSlots; j++)
            {
                int input = fixedInputs[(long)l * fixedSlots + j];
                if (input < RewiredInputs)
                {
                    throw new ArgumentException($"FixedFanInLinear.SetFixedInputs: row {l} fixed slot {j} reads input {input}, below the fixed inputs' range [{RewiredInputs}, {InFeatures})", nameof(fixedInputs));
                }
                indices[(long)l * k + slots + j] = input;
                values[(long)l * k + slots + j] = 0f;
            }
        }
        SetIndices(indices);
        SetValues(values);
    }
}
