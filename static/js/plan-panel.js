// The plan of a chat (plan mode): steps with risk and files, edit, "Run plan", live step status.
// The panel hides itself on a server without the plan endpoints (their 404 is not an API error body).
import { api, csrfToken, el, errorFromBody, readSSE } from './api.js';

export function initPlanPanel({ client, projectId, chatId }) {
  const panel = document.getElementById('plan-panel');
  const status = document.getElementById('plan-status');
  const stepsList = document.getElementById('plan-steps');
  const editButton = document.getElementById('plan-edit');
  const saveButton = document.getElementById('plan-save');
  const runButton = document.getElementById('plan-run');
  let plan = null;
  let editing = false;

  function renderSteps() {
    stepsList.replaceChildren(...(plan ? plan.steps : []).map((step, index) => {
      if (editing) {
        return el('li', { class: 'plan-step editing', dataset: { index: String(index) } },
          el('input', { class: 'step-title', value: step.title, 'aria-label': `Step ${index + 1} title` }),
          el('textarea', { class: 'step-description', 'aria-label': `Step ${index + 1} description`, text: step.description || '' }),
          el('input', { class: 'step-files', value: (step.files || []).join(', '), 'aria-label': `Step ${index + 1} files` }),
          el('select', { class: 'step-risk', 'aria-label': `Step ${index + 1} risk` },
            ['low', 'medium', 'high'].map((risk) => el('option', { value: risk, text: risk, selected: risk === step.risk }))));
      }
      return el('li', { class: `plan-step status-${step.status || 'pending'}`, dataset: { index: String(index), status: step.status || 'pending' } },
        el('strong', { text: step.title }),
        el('span', { class: `badge risk-${step.risk}`, text: `risk: ${step.risk}` }),
        el('span', { class: 'badge step-status', text: step.status || 'pending' }),
        step.description ? el('p', { text: step.description }) : null,
        (step.files || []).length ? el('p', { class: 'meta', text: `Files: ${step.files.join(', ')}` }) : null);
    }));
    status.textContent = plan ? `Status: ${plan.status}` : 'No plan yet. Ask for one in plan mode.';
    editButton.hidden = !plan || editing;
    saveButton.hidden = !editing;
    runButton.disabled = !plan || editing || plan.status === 'running';
  }

  async function load() {
    try {
      plan = await api.get(`/api/plan/${encodeURIComponent(projectId)}/${encodeURIComponent(chatId)}`);
      panel.hidden = false;
    } catch (err) {
      if (err.status === 404 && err.extra && err.extra.notJson) {
        panel.hidden = true; // no plan endpoints on this server
        return;
      }
      plan = null;
      panel.hidden = false;
    }
    renderSteps();
  }

  editButton.addEventListener('click', () => { editing = true; renderSteps(); });
  saveButton.addEventListener('click', async () => {
    const steps = [...stepsList.querySelectorAll('.plan-step')].map((li) => ({
      title: li.querySelector('.step-title').value.trim(),
      description: li.querySelector('.step-description').value,
      files: li.querySelector('.step-files').value.split(',').map((f) => f.trim()).filter(Boolean),
      risk: li.querySelector('.step-risk').value,
    }));
    try {
      plan = await api.patch(`/api/plans/${encodeURIComponent(plan.id)}`, { steps });
      editing = false;
    } catch (err) {
      status.textContent = `Could not save: ${err.message}`;
      return;
    }
    renderSteps();
  });

  runButton.addEventListener('click', async () => {
    runButton.disabled = true;
    try {
      const response = await fetch(`/api/plan/${encodeURIComponent(projectId)}/${encodeURIComponent(chatId)}/run`, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', 'X-CSRFToken': csrfToken() },
        body: '{}',
      });
      if (!response.ok) throw errorFromBody(response.status, await response.json().catch(() => null));
      plan.status = 'running';
      renderSteps();
      for await (const frame of readSSE(response)) {
        const event = frame.data;
        if (!event || typeof event !== 'object') continue;
        if (typeof event.seq === 'number' && event.runId) client._handleRunEvent(event);
      }
    } catch (err) {
      status.textContent = `Could not run the plan: ${err.message}`;
    }
    await load();
  });

  client.onEvent((event) => {
    if (event.type === 'plan.ready') load();
    if (event.type === 'plan.step' && plan && (!event.planId || event.planId === plan.id)) {
      const step = plan.steps[event.index];
      if (step) {
        step.status = event.status;
        renderSteps();
      }
    }
  });
  load();
}
