using Microsoft.Extensions.Options;

namespace LoopDoctor.Agent.AspNetCore;

/// <summary>Runs <see cref="LoopDoctorOptions.Validate"/> through the options pipeline so ValidateOnStart reports it.</summary>
internal sealed class LoopDoctorOptionsValidation : IValidateOptions<LoopDoctorOptions>
{
    public ValidateOptionsResult Validate(string? name, LoopDoctorOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (LoopDoctorConfigurationException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
