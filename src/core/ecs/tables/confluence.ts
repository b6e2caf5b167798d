// Confluence: action → categorization and user extraction (ecs-mapping.md §5.1, §6). Data Center
// records carry i18n keys, Cloud records the English summary; both forms are keys where the reference
// supports both.
import { type Categorization, categorizationTable, type ProductRules } from './types'

// Permission grants: the golden files (Confluence package, ECS 8.4 era) say [admin, creation];
// ecs-mapping.md §5.1 (a later reading) lists [creation] only. We keep `admin`: ECS 9.4 allows it under `iam`.
const iamConfigCreation: Categorization = { category: ['iam', 'configuration'], type: ['admin', 'creation'] }
const iamConfigDeletion: Categorization = { category: ['iam', 'configuration'], type: ['admin', 'deletion'] }
const userCreation: Categorization = { category: ['iam'], type: ['user', 'creation'] }
const userChange: Categorization = { category: ['iam'], type: ['user', 'change'] }
const userDeletion: Categorization = { category: ['iam'], type: ['user', 'deletion'] }
const groupChange: Categorization = { category: ['iam'], type: ['group', 'change'] }
const groupCreation: Categorization = { category: ['iam'], type: ['group', 'creation'] }
const groupDeletion: Categorization = { category: ['iam'], type: ['group', 'deletion'] }
const configChange: Categorization = { category: ['configuration'], type: ['change'] }
const configCreation: Categorization = { category: ['configuration'], type: ['creation'] }
const configDeletion: Categorization = { category: ['configuration'], type: ['deletion'] }

export const CONFLUENCE_CATEGORIZATION = categorizationTable([
  [['Global permission added', 'audit.logging.summary.global.permission.added'], iamConfigCreation],
  [['Global permission removed'], iamConfigDeletion],
  [['audit.logging.summary.space.permission.added'], iamConfigCreation],
  [['User created', 'audit.logging.summary.user.created'], userCreation],
  [['User renamed', 'audit.logging.summary.user.renamed'], userChange],
  [['User details updated', 'audit.logging.summary.user.updated'], userChange],
  [['User deleted', 'audit.logging.summary.user.deleted'], userDeletion],
  [['User added to group', 'audit.logging.summary.group.membership.added'], groupChange],
  [['User removed from group', 'audit.logging.summary.group.membership.removed'], groupChange],
  [['Group created', 'audit.logging.summary.group.created'], groupCreation],
  [['Group deleted', 'audit.logging.summary.group.deleted'], groupDeletion],
  // The golden file says configuration/[admin, change]; ECS 9.4 does not allow `admin` under
  // `configuration` (expected_event_types), so we keep `change` only. Listed in test/golden/DEVIATIONS.md.
  [['Audit Log configuration updated', 'atlassian.audit.event.action.audit.config.updated'], configChange],
  [['audit.logging.summary.global.settings.edited'], configChange],
  [['personal.access.tokens.audit.log.summary.token.created'], { category: ['iam'], type: ['admin', 'creation'] }],
  [['personal.access.tokens.audit.log.summary.token.deleted'], { category: ['iam'], type: ['admin', 'deletion'] }],
  [['audit.logging.summary.login.success'], { category: ['authentication'], type: ['start'], outcome: 'success' }],
  [['audit.logging.summary.user.logout'], { category: ['authentication'], type: ['end'] }],
  [['audit.logging.summary.login.failed'], { category: ['authentication'], type: ['info'], outcome: 'failure' }],
  [
    ['audit.logging.summary.user.password.changed'],
    { category: ['iam'], type: ['user', 'change'], outcome: 'success' },
  ],
  [['audit.logging.summary.sudo.auth.successful'], { category: ['authentication'], type: ['start'] }],
  [['audit.logging.summary.sudo.logout'], { category: ['authentication'], type: ['end'] }],
  [['audit.logging.summary.space.created'], configCreation],
  [['audit.logging.summary.page.created'], configCreation],
  [['audit.logging.summary.page.deleted'], configDeletion],
  [['audit.logging.summary.space.removed'], configDeletion],
  [['audit.logging.summary.space.config.updated'], configChange],
])

const GROUP_CREATED_DELETED = [
  'audit.logging.summary.group.created',
  'audit.logging.summary.group.deleted',
  'Group created',
  'Group deleted',
]
const MEMBERSHIP = [
  'audit.logging.summary.group.membership.added',
  'audit.logging.summary.group.membership.removed',
  'User added to group',
  'User removed from group',
]
const USER_LIFECYCLE = [
  'audit.logging.summary.user.created',
  'audit.logging.summary.user.deleted',
  'audit.logging.summary.user.password.changed',
  'audit.logging.summary.user.updated',
  'User created',
  'User deleted',
  'User details updated',
]
const USER_CREATED_UPDATED = [
  'audit.logging.summary.user.created',
  'audit.logging.summary.user.updated',
  'User created',
  'User details updated',
]

export const CONFLUENCE_RULES: ProductRules = {
  categorization: CONFLUENCE_CATEGORIZATION,
  gate: {
    categoryI18nKeys: ['audit.logging.category.user.management', 'audit.logging.category.auth'],
    // Cloud records have no category key; the English label is what makes them qualify.
    categories: ['Users and groups'],
  },
  objectRules: [
    { objectType: 'Group', actions: GROUP_CREATED_DELETED, fill: 'group' },
    { objectType: 'Group', actions: MEMBERSHIP, fill: 'target-group' },
    { objectType: 'User', actions: USER_LIFECYCLE, fill: 'target-user-by-uri' },
    { objectType: 'User', actions: MEMBERSHIP, fill: 'target-user' },
    {
      objectType: 'User',
      actions: ['audit.logging.summary.login.success', 'audit.logging.summary.login.failed'],
      fill: 'actor-by-uri',
    },
  ],
  changedValueRules: [
    {
      actions: ['audit.logging.summary.user.renamed', 'User renamed'],
      i18nKey: 'audit.logging.changed.value.username',
      field: 'name',
      target: 'from',
    },
    { actions: USER_CREATED_UPDATED, i18nKey: 'Username', field: 'name', target: 'from-else-to' },
    { actions: USER_CREATED_UPDATED, i18nKey: 'Email', field: 'email', target: 'from-else-to' },
    { actions: USER_CREATED_UPDATED, i18nKey: 'Display name', field: 'full_name', target: 'from-else-to' },
  ],
}
