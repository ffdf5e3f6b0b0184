namespace LoopDoctor.Agent;

/// <summary>An invalid agent option. The message names the option and the rule it broke.</summary>
public sealed class LoopDoctorConfigurationException : Exception
{
    public LoopDoctorConfigurationException(string optionName, string message) : base(message)
    {
        OptionName = optionName;
    }

    /// <summary>The name of the invalid option, e.g. <c>ProbeInterval</c>.</summary>
    public string OptionName { get; }
}
