#!/usr/bin/env tsx
// Extracts helm and kubectl into .cache/tools/bin (see src/tools/helm.ts).
import { helmPath, kubectlPath } from "../src/tools/helm.js";
console.log(helmPath());
console.log(kubectlPath());
