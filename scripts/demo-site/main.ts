/**
 * Public entry point of the bundled demo intranet site. The CLI (`checkpoint demo-site`, `checkpoint start`)
 * and the tests import from here; everything else in this folder is an implementation detail.
 */
export { startDemoSite, type DemoSite, type DemoSiteOptions } from './server.ts';
export {
  BASIC_AUTH_PASSWORD,
  BASIC_AUTH_USERNAME,
  DEMO_PASSWORD,
  DEMO_USERNAME,
} from './session.ts';
