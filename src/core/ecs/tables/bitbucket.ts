// Bitbucket Data Center: action → categorization and user extraction (ecs-mapping.md §5.3, §6).
// All keys are i18n keys: Bitbucket has no Cloud audit API.
import { type Categorization, categorizationTable, type ProductRules } from './types'

const USER = 'bitbucket.service.user.audit.action.'
const TOKENS = 'bitbucket.access.tokens.audit.action.'
const REPOSITORY = 'bitbucket.service.repository.audit.action.'
const PROJECT = 'bitbucket.service.project.audit.action.'

const iamCreation: Categorization = { category: ['iam'], type: ['creation'] }
const iamDeletion: Categorization = { category: ['iam'], type: ['deletion'] }
const iamChange: Categorization = { category: ['iam'], type: ['change'] }
const configChange: Categorization = { category: ['configuration'], type: ['change'] }
const configDeletion: Categorization = { category: ['configuration'], type: ['deletion'] }

export const BITBUCKET_CATEGORIZATION = categorizationTable([
  [[`${USER}usercreated`], { category: ['iam'], type: ['user', 'creation'] }],
  [[`${USER}userrenamed`], { category: ['iam'], type: ['user', 'change'] }],
  [[`${USER}usercredentialupdated`], { category: ['iam'], type: ['user', 'change'], outcome: 'success' }],
  [[`${USER}userdeleted`], { category: ['iam'], type: ['user', 'deletion'] }],
  [[`${USER}groupmembershipscreated.user`], { category: ['iam'], type: ['group', 'change'] }],
  [[`${USER}groupmembershipdeleted`], { category: ['iam'], type: ['group', 'change'] }],
  [[`${USER}authenticationsuccess`], { category: ['authentication'], type: ['start'], outcome: 'success' }],
  [['bitbucket.web.audit.action.logoutsuccess'], { category: ['authentication'], type: ['end'] }],
  [[`${USER}authenticationfailure`], { category: ['authentication'], type: ['info'], outcome: 'failure' }],
  [[`${USER}groupcreated`], { category: ['iam'], type: ['group', 'creation'] }],
  [[`${USER}groupdeleted`], { category: ['iam'], type: ['group', 'deletion'] }],
  [
    [
      `${USER}projectpermissiongranted`,
      `${USER}repositorypermissiongranted`,
      `${USER}repositorypermissiongrantrequested`,
    ],
    { category: ['iam', 'configuration'], type: ['creation'] },
  ],
  [
    [`${USER}repositorypermissionrevoked`, `${USER}repositorypermissionrevocationrequested`],
    { category: ['iam', 'configuration'], type: ['deletion'] },
  ],
  [[`${TOKENS}accesstokencreated.personal`, `${TOKENS}accesstokencreated.repository`], iamCreation],
  [[`${TOKENS}accesstokendeleted.personal`, `${TOKENS}accesstokendeleted.repository`], iamDeletion],
  [[`${TOKENS}accesstokenmodified.personal`, `${TOKENS}accesstokenmodified.repository`], iamChange],
  [
    ['bitbucket.ssh.audit.action.sshkeycreated', 'bitbucket.ssh.audit.action.sshaccesskeygranted.repository'],
    iamCreation,
  ],
  [
    ['bitbucket.ssh.audit.action.sshkeydeleted', 'bitbucket.ssh.audit.action.sshaccesskeyrevoked.repository'],
    iamDeletion,
  ],
  [['bitbucket.plugins.gpg.audit.action.gpgevent.created'], iamCreation],
  [['bitbucket.plugins.gpg.audit.action.gpgevent.deleted'], iamDeletion],
  [['atlassian.audit.event.action.audit.config.updated'], configChange],
  [[`${REPOSITORY}repositoryaccessed`], { category: ['web'], type: ['access'] }],
  [[`${REPOSITORY}repositorymodified`, `${REPOSITORY}repositorymodificationrequested`], configChange],
  [[`${REPOSITORY}repositorydeleted`], configDeletion],
  [[`${PROJECT}projectcreated`], { category: ['configuration'], type: ['creation'] }],
  [[`${PROJECT}projectdeleted`, `${PROJECT}projectdeletionrequested`], configDeletion],
  [[`${PROJECT}projectmodified`, `${PROJECT}projectmodificationrequested`], configChange],
])

const MEMBERSHIP = [`${USER}groupmembershipscreated.user`, `${USER}groupmembershipdeleted`]

export const BITBUCKET_RULES: ProductRules = {
  categorization: BITBUCKET_CATEGORIZATION,
  // No English fallback in the reference: Bitbucket records always carry the key.
  gate: { categoryI18nKeys: ['bitbucket.service.audit.category.usersandgroups'], categories: [] },
  objectRules: [
    { objectType: 'GROUP', actions: [`${USER}groupcreated`, `${USER}groupdeleted`], fill: 'group' },
    { objectType: 'GROUP', actions: MEMBERSHIP, fill: 'target-group' },
    {
      objectType: 'USER',
      actions: [
        `${USER}usercreated`,
        `${USER}userdeleted`,
        `${USER}userrenamed`,
        `${USER}usercredentialupdated`,
        ...MEMBERSHIP,
      ],
      fill: 'target-user',
    },
  ],
  changedValueRules: [
    {
      actions: [`${USER}userrenamed`],
      i18nKey: 'bitbucket.service.user.audit.attribute.user.name',
      field: 'name',
      target: 'from',
    },
  ],
}
