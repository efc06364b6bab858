import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Vitest's own order (longest first by its cache of earlier runs, else largest file first),
 * with the real-controller files in front. Each of them takes minutes; on a fresh clone
 * there is no cache, and by file size a long one could start last and keep the whole run
 * waiting for it alone.
 */
export default class RealControllersFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const slow = (file: TestSpecification): boolean => file.moduleId.includes("/src/tests/integration/mgmt/");
    return [...sorted.filter(slow), ...sorted.filter((file) => !slow(file))];
  }
}
