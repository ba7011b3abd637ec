// The models page (issue 11): not built yet.
import { renderNotBuilt } from './not_built.js';

export function render(page) {
  renderNotBuilt(page, { id: 'models', title: 'models' });
  return null;
}
