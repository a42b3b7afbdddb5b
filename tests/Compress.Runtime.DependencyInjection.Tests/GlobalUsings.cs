global using SharedMaterial = Compress.Runtime.Tests.SharedMaterial;
