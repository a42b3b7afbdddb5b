using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Compress.Runtime.DependencyInjection.Tests;

public class RegistrationTests
{
    private static string DigitsPath => SharedMaterial.Model("digits-mlp.onnx");

    private static float[] FirstRow()
    {
        float[] all = Data.NpyArray.Load(SharedMaterial.Data("digits_test_x.npy")).AsSpan<float>().ToArray();
        return all[..64];
    }

    [Test]
    public void KeyedModelResolvesOnceRunsAndIsDisposedWithTheContainer()
    {
        float[] expected;
        using (CompressedModel direct = CompressedModel.Load(DigitsPath))
        {
            expected = direct.Run(FirstRow(), [1, 64]).ToArray<float>();
        }

        var services = new ServiceCollection();
        services.AddCompressedModel("digits", DigitsPath, o => o.IntraOpNumThreads = 1);
        CompressedModel model;
        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            model = provider.GetRequiredKeyedService<CompressedModel>("digits");

            Assert.That(provider.GetRequiredKeyedService<CompressedModel>("digits"), Is.SameAs(model), "a singleton");
            Assert.That(model.Name, Is.EqualTo("digits-mlp"));
            Assert.That(model.Run(FirstRow(), [1, 64]).ToArray<float>(), Is.EqualTo(expected));
            Assert.That(provider.GetKeyedService<CompressedModel>("other"), Is.Null);
        }

        Assert.Throws<ObjectDisposedException>(() => model.Run(FirstRow(), [1, 64]));
    }

    [Test]
    public void ConfigurationSectionBindsThePathAndTheOptionsFlatOrNested()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Models:digits:Path"] = DigitsPath,
            ["Models:digits:SessionCount"] = "3",
            ["Models:digits:IntraOpNumThreads"] = "1",
            ["Models:digits:GraphOptimizationLevel"] = "ORT_ENABLE_BASIC",
            ["Models:digits:PreciseQuantizedMatMul"] = "false",
            ["Models:nested:Path"] = DigitsPath,
            ["Models:nested:Options:InterOpNumThreads"] = "2",
            ["Models:nested:Options:AllowThreadSpinning"] = "false",
        }).Build();
        var services = new ServiceCollection();
        services.AddCompressedModel("digits", configuration.GetSection("Models:digits"));
        services.AddCompressedModel("nested", configuration.GetSection("Models:nested"));
        using ServiceProvider provider = services.BuildServiceProvider();

        IOptionsMonitor<CompressedModelSettings> settings = provider.GetRequiredService<IOptionsMonitor<CompressedModelSettings>>();
        CompressedModelSettings digits = settings.Get("digits");
        CompressedModelSettings nested = settings.Get("nested");

        Assert.That(digits.Path, Is.EqualTo(DigitsPath));
        Assert.That(digits.SessionCount, Is.EqualTo(3));
        Assert.That(digits.Options.IntraOpNumThreads, Is.EqualTo(1));
        Assert.That(digits.Options.GraphOptimizationLevel, Is.EqualTo(Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC));
        Assert.That(digits.Options.PreciseQuantizedMatMul, Is.False);
        Assert.That(nested.Options.InterOpNumThreads, Is.EqualTo(2));
        Assert.That(nested.Options.AllowThreadSpinning, Is.False);
        Assert.That(nested.Options.PreciseQuantizedMatMul, Is.True, "unset options keep their defaults");
        Assert.That(provider.GetRequiredKeyedService<CompressedModel>("digits").Run(FirstRow(), [1, 64]).ElementCount, Is.EqualTo(10));
    }

    [Test]
    public void LoadIsLoggedWithNameSizeCompressionAndTime()
    {
        var logs = new CapturingLoggerFactory();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddCompressedModel("digits", s => s.Path = DigitsPath);
        using ServiceProvider provider = services.BuildServiceProvider();

        CompressedModel model = provider.GetRequiredKeyedService<CompressedModel>("digits");

        var entry = logs.Entries.Single();
        Assert.That(entry.Category, Is.EqualTo(CompressedModelServiceCollectionExtensions.LoggerCategory));
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Information));
        Assert.That(entry.EventId.Name, Is.EqualTo("ModelLoaded"));
        Assert.That(entry.Message, Does.StartWith($"Loaded model 'digits' (digits-mlp) from {DigitsPath}: {new FileInfo(DigitsPath).Length} bytes in "));
        Assert.That(entry.Message, Does.EndWith("1 session(s); compression: none recorded (not built by Compress)"));
        Assert.That(model.LoadTime, Is.GreaterThan(TimeSpan.Zero));
    }

    [Test]
    public void MissingPathFailsValidationWithTheRegistrationName()
    {
        var services = new ServiceCollection();
        services.AddCompressedModel("empty", new ConfigurationBuilder().Build());
        using ServiceProvider provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<CompressedModel>("empty"));

        Assert.That(e!.Message, Does.Contain("Compressed model 'empty' has no Path"));
    }

    [Test]
    public void MissingFileThrowsAndLogsAnError()
    {
        var logs = new CapturingLoggerFactory();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        string path = Path.Combine(Path.GetTempPath(), "compress-no-such-model.onnx");
        services.AddCompressedModel("ghost", path);
        using ServiceProvider provider = services.BuildServiceProvider();

        var e = Assert.Throws<CompressedModelException>(() => provider.GetRequiredKeyedService<CompressedModel>("ghost"));

        Assert.That(e!.ModelName, Is.EqualTo("compress-no-such-model"));
        var entry = logs.Entries.Single();
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(entry.Message, Is.EqualTo($"Could not load model 'ghost' from {path}"));
        Assert.That(entry.Exception, Is.SameAs(e));
    }

    [Test]
    public void RelativePathIsResolvedAgainstTheAppFolder()
    {
        string relative = Path.GetRelativePath(AppContext.BaseDirectory, DigitsPath);
        Assume.That(Path.IsPathRooted(relative), Is.False, "the shared folder is on another drive");
        var services = new ServiceCollection();
        services.AddCompressedModel("digits", relative);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.That(provider.GetRequiredKeyedService<CompressedModel>("digits").Source, Is.EqualTo(Path.GetFullPath(DigitsPath)));
    }

    [Test]
    public void PoolRegistrationLoadsTheConfiguredSessionCount()
    {
        var logs = new CapturingLoggerFactory();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddCompressedModelPool("digits", s =>
        {
            s.Path = DigitsPath;
            s.SessionCount = 2;
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        CompressedModelPool pool = provider.GetRequiredKeyedService<CompressedModelPool>("digits");

        Assert.That(pool.Models, Has.Count.EqualTo(2));
        Assert.That(pool.Run(FirstRow(), [1, 64]).ElementCount, Is.EqualTo(10));
        Assert.That(logs.Entries.Single().Message, Does.Contain("2 session(s)"));
    }
}
