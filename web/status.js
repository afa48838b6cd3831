/*
 * status.js: the life of an order, as every page sees it.  Loaded after
 * common.js; it defines TQ.status:
 *
 *   PENDING -> PREPARING -> READY -> COMPLETED, or CANCELLED from any status
 *   that is not final.  Moves only go forward (they may skip steps), so a
 *   copy with a lower rank is older and never replaces a newer one.
 *
 *   TQ.status.OPEN           the statuses of an order still in the queue
 *   TQ.status.rank(s)        1..4 along the way (COMPLETED and CANCELLED both 4)
 *   TQ.status.isOpen(s)      not yet COMPLETED or CANCELLED
 *   TQ.status.isWaiting(s)   open and not yet READY
 *   TQ.status.openCount(by)  open orders in a {STATUS: n} count
 *   TQ.status.label(s)       its name on the staff console ("Received"...)
 *   TQ.status.words(s)       what the customer's page says ("Waiting"...)
 *   TQ.status.step(s)        the customer's progress dots lit (0..3)
 *   TQ.status.actions(s)     what a staff card offers (besides Cancel)
 *   TQ.status.deniedVerb(s)  "start orders"...: a move a role may not make
 */
'use strict';

(function () {
  const RANK = { PENDING: 1, PREPARING: 2, READY: 3, COMPLETED: 4, CANCELLED: 4 };
  const OPEN = ['PENDING', 'PREPARING', 'READY'];

  const LABEL = { PENDING: 'Received', PREPARING: 'Preparing', READY: 'Ready', COMPLETED: 'Completed', CANCELLED: 'Cancelled' };

  const WORDS = {
    PENDING: 'Waiting',
    PREPARING: 'Being prepared',
    READY: 'Ready — please collect',
    COMPLETED: 'Collected',
    CANCELLED: 'Cancelled',
  };
  const STEP = { PENDING: 1, PREPARING: 2, READY: 3, COMPLETED: 3, CANCELLED: 0 };

  /*
   * A card's buttons by its order's status: [action, label, style], the
   * first one what Enter presses.  An action is the status to move to, or
   * "recall" (call a ready token again).  Cancel is on every open card.
   */
  const ACTIONS = {
    PENDING: [
      ['PREPARING', 'Start', 'primary'],
      ['READY', 'Ready', ''],
    ],
    PREPARING: [['READY', 'Ready', 'go']],
    READY: [
      ['COMPLETED', 'Complete', 'primary'],
      ['recall', 'Recall', ''],
    ],
  };

  const DENIED = {
    PREPARING: 'start orders',
    READY: 'mark orders ready',
    COMPLETED: 'complete orders',
    CANCELLED: 'cancel orders',
  };

  const isOpen = (s) => OPEN.includes(s);

  TQ.status = {
    OPEN,
    rank: (s) => RANK[s] || 0,
    isOpen,
    isWaiting: (s) => isOpen(s) && s !== 'READY',
    openCount: (by) => OPEN.reduce((n, s) => n + ((by && by[s]) || 0), 0),
    label: (s) => LABEL[s] || s,
    words: (s) => WORDS[s] || s,
    step: (s) => STEP[s] || 0,
    actions: (s) => ACTIONS[s] || [],
    deniedVerb: (s) => DENIED[s] || null,
  };
})();
